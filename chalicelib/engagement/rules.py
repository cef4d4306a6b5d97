"""Engagement rules. Pure: the caller passes `now` and the learner's figures.

Study reminder: a learner who studied in the last 30 days but not in the last N (3) gets one at
18:00 their time, at most once per N days. Weekly summary: Monday 08:00 their time, about the
Monday-to-Sunday week that just ended, on their own calendar. Announcement segments: learners who
did not study on any of the N UTC days up to the send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REMINDER_AFTER_DAYS = 3
REMINDER_HOUR = 18
ACTIVE_WINDOW_DAYS = 30
SUMMARY_WEEKDAY = 0  # Monday
SUMMARY_HOUR = 8
SUMMARY_WINDOW_DAYS = 15  # the two weeks summarised, plus a day for zones ahead of UTC
WEAKEST_MIN_ANSWERED = 5
EMAIL_LEASE_SEC = 600  # a mail taken but not marked sent this long ago was lost with its run: retry it


def utc_days(today: date, count: int) -> list[str]:
    """`count` UTC days ending today, oldest first."""
    return [(today - timedelta(days=offset)).isoformat() for offset in range(count - 1, -1, -1)]


def local_time(now: datetime, zone: str) -> datetime:
    try:
        return now.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(ZoneInfo("UTC"))


# --- study reminders ---------------------------------------------------------------------------------


def days_since(last_active: str, local: datetime) -> int:
    return (local.date() - date.fromisoformat(last_active)).days


def reminder_due(
    last_active: str, local: datetime, *, after_days: int = REMINDER_AFTER_DAYS, hour: int = REMINDER_HOUR
) -> bool:
    """Their reminder hour, and no study for `after_days` days (the last day counted is a UTC day)."""
    return local.hour == hour and days_since(last_active, local) >= after_days


def reminder_cutoff(local: datetime, *, after_days: int = REMINDER_AFTER_DAYS) -> str:
    """A previous reminder sent on or before this local date allows a new one (one per N days)."""
    return (local.date() - timedelta(days=after_days)).isoformat()


# --- weekly summary ----------------------------------------------------------------------------------


def summary_due(local: datetime) -> bool:
    return local.weekday() == SUMMARY_WEEKDAY and local.hour == SUMMARY_HOUR


@dataclass(frozen=True)
class Week:
    monday: date
    label: str  # ISO week, e.g. 2026-W47: the claim's period

    @property
    def days(self) -> list[str]:
        return [(self.monday + timedelta(days=n)).isoformat() for n in range(7)]

    @property
    def previous(self) -> Week:
        return week_of(self.monday - timedelta(days=7))


def week_of(day: date) -> Week:
    monday = day - timedelta(days=day.weekday())
    year, number, _ = monday.isocalendar()
    return Week(monday, f"{year}-W{number:02d}")


def last_week(local: datetime) -> Week:
    return week_of(local.date() - timedelta(days=7))


@dataclass(frozen=True)
class DayFigures:
    answered: int
    correct: int
    seconds: int


@dataclass(frozen=True)
class WeekSummary:
    week: str
    answered: int
    accuracy_percent: int
    hours: float
    delta_hours: float
    weakest: str | None  # category slug


def weekly_summary(
    week: Week, days: Mapping[str, DayFigures], categories: Mapping[str, tuple[int, int]]
) -> WeekSummary:
    """`days` by local date (both weeks); `categories`: slug -> (answered, correct) overall."""
    this = [days[d] for d in week.days if d in days]
    before = [days[d] for d in week.previous.days if d in days]
    answered, correct = sum(d.answered for d in this), sum(d.correct for d in this)
    seconds, previous = sum(d.seconds for d in this), sum(d.seconds for d in before)
    return WeekSummary(
        week=week.label,
        answered=answered,
        accuracy_percent=round(100 * correct / answered) if answered else 0,
        hours=round(seconds / 3600, 1),
        delta_hours=round((seconds - previous) / 3600, 1),
        weakest=weakest_category(categories),
    )


def weakest_category(categories: Mapping[str, tuple[int, int]]) -> str | None:
    """The lowest accuracy among categories with enough answers; ties by slug."""
    scored = [
        (correct / answered, slug)
        for slug, (answered, correct) in categories.items()
        if answered >= WEAKEST_MIN_ANSWERED
    ]
    return min(scored)[1] if scored else None


# --- announcement segments and mail --------------------------------------------------------------------


def segment_days(sent_at: datetime, inactive_days: int) -> list[str]:
    return utc_days(sent_at.date(), inactive_days)


def may_take_email(state: str, taken_at: float | None, now_epoch: int, *, lease_sec: int = EMAIL_LEASE_SEC) -> bool:
    """A claimed mail is sent by whoever takes it: pending, or taken by a run that died."""
    return state == "pending" or (state == "sending" and (taken_at or 0) <= now_epoch - lease_sec)
