"""Rate limits: fixed-window counters in DynamoDB, exact across Lambda containers."""
