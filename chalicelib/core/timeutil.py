"""Pure time helpers: one way to write, parse and localise a moment. No clock is read here
(`clock.now()` is the only place that does), so these are safe to call from rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


def iso(moment: datetime) -> str:
    """UTC, whole seconds, with a 'Z': the form every stored time takes."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_ms(moment: datetime) -> str:
    """UTC with milliseconds: for sort keys that must order events within one second."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(iso_time: str) -> datetime:
    """A stored time back to an aware datetime ('Z' or an explicit offset)."""
    moment = datetime.fromisoformat(iso_time.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {iso_time!r}")
    return moment


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    # ZoneInfo caches too, but this keeps the lookup off the hot path's profile (it is pure data).
    return ZoneInfo(name)


def local_date(moment: datetime | str, timezone: str) -> date:
    """The learner's calendar day at a moment, in their IANA time zone."""
    aware = parse(moment) if isinstance(moment, str) else moment
    return aware.astimezone(zone(timezone)).date()


def week_start(day: date) -> date:
    """Weeks start on Monday (ISO 8601)."""
    return day - timedelta(days=day.weekday())
