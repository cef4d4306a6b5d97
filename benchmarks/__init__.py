"""Deterministic cost figures (DynamoDB operations and capacity units per endpoint) and timings."""
