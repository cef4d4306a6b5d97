"""Rate-limit counters: one item per limit, subject and window; TTL removes old windows."""

from __future__ import annotations

import hashlib

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.core.db import TableItem, is_condition_failure, typed

EXPIRY_GRACE_SEC = 3600


class RateWindow(TableItem, discriminator="RateWindow"):
    hits = NumberAttribute(default=0)


def _ref(limit_name: str, subject: str, window_start: int) -> RateWindow:
    # Subjects (addresses, IPs) are hashed: the table never holds them in clear in a key.
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return RateWindow(PK=f"RATE#{limit_name}#{digest}", SK=f"W#{window_start}")


def take(limit_name: str, subject: str, window_start: int, window_end: int, max_hits: int) -> bool:
    """Count one hit if the window has room; False if it is full. One conditional UpdateItem."""
    ref = _ref(limit_name, subject, window_start)
    try:
        ref.update(
            actions=[
                typed(RateWindow),
                RateWindow.hits.add(1),
                RateWindow.expires_at.set(window_end + EXPIRY_GRACE_SEC),
            ],
            condition=RateWindow.hits.does_not_exist() | (RateWindow.hits < max_hits),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def clear(limit_name: str, subject: str, window_start: int) -> None:
    """Start the window afresh for this subject (its hits so far no longer count)."""
    try:
        _ref(limit_name, subject, window_start).update(
            actions=[RateWindow.hits.set(0)], condition=RateWindow.PK.exists()
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def give_back(limit_name: str, subject: str, window_start: int) -> None:
    """Return one hit (a login that turned out right); never below zero."""
    ref = _ref(limit_name, subject, window_start)
    try:
        ref.update(actions=[RateWindow.hits.add(-1)], condition=RateWindow.hits > 0)
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
