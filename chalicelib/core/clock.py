"""Time in one place, so tests can move it and every module agrees on 'now'. The pure formatting
and parsing helpers live in `timeutil`; `iso` is re-exported here for the callers that write 'now'."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from chalicelib.core.timeutil import iso, iso_ms

__all__ = ["epoch", "iso", "iso_from_ms", "iso_ms", "iso_ms_from_ms", "new_id", "now"]


def now() -> datetime:
    return datetime.now(UTC)


def epoch() -> int:
    return int(time.time())


def new_id() -> str:
    """Time-ordered, unguessable id: 12 hex digits of milliseconds then 80 random bits."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def iso_from_ms(epoch_ms: float) -> str:
    return iso(datetime.fromtimestamp(epoch_ms / 1000, UTC))


def iso_ms_from_ms(epoch_ms: float) -> str:
    """Millisecond precision: for instants compared with others of the same second."""
    return iso_ms(datetime.fromtimestamp(epoch_ms / 1000, UTC))
