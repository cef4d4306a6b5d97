"""Scheduled analytics jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.analytics import data, snapshot
from chalicelib.core import clock
from chalicelib.core.jobs import job
from chalicelib.core.observability import logger

ACTIVE_WINDOW_DAYS = 30


@job("recompute_suggestions")
def recompute_suggestions() -> dict[str, Any]:
    """Rebuild the dashboard (and so the suggestions) of everyone active in the last 30 days, so
    expired dismissals and changed thresholds take effect without new activity. Queries the
    per-day ACTIVE# partitions: no Scan."""
    today = clock.now().date()
    users: set[str] = set()
    for offset in range(ACTIVE_WINDOW_DAYS):
        users.update(data.active_users((today - timedelta(days=offset)).isoformat()))
    for user_id in sorted(users):
        snapshot.rebuild(user_id)
    logger.info("suggestions recomputed", extra={"users": len(users)})
    return {"users": len(users)}
