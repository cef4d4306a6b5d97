"""Time in one place, so tests can move it and every module agrees on 'now'."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def epoch() -> int:
    return int(time.time())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_id() -> str:
    """Time-ordered, unguessable id: 12 hex digits of milliseconds then 80 random bits."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def iso_from_ms(epoch_ms: float) -> str:
    return iso(datetime.fromtimestamp(epoch_ms / 1000, UTC))
