"""Analytics: per-user aggregates, daily stats and the dashboard snapshot, kept by stream consumers."""
