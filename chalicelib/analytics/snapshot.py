"""The dashboard snapshot: rebuilt from aggregates after every change, read with one GetItem.

What depends on the current time (this week's hours, days since the last session) is stored as
raw dates and finished on read, so a snapshot never goes stale just because a day passed."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import PutError

from chalicelib.accounts import data as accounts
from chalicelib.analytics import data
from chalicelib.analytics.data import CategoryAggregate, DashboardSnapshot
from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.db import is_condition_failure, user_pk
from chalicelib.taxonomy import data as taxonomy
from chalicelib.taxonomy.data import Category

SNAPSHOT_DAYS = 14
_TAXONOMY_TTL_SEC = 300
_taxonomy_cache: dict[str, Any] = {}


def active_categories() -> list[Category]:
    """The taxonomy changes rarely; a stream or job Lambda re-reads it every five minutes."""
    cached = _taxonomy_cache.get("value")
    if cached is None or time.monotonic() - _taxonomy_cache["at"] > _TAXONOMY_TTL_SEC:
        categories, _ = taxonomy.all_nodes()
        cached = sorted((c for c in categories if c.status == "active"), key=lambda c: (int(c.order), c.name))
        if cached:  # an empty taxonomy is a system still being set up: ask again next time
            _taxonomy_cache.update(value=cached, at=time.monotonic())
    return list(cached)


def today_in(timezone: str) -> date:
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def score(answered: int, correct: int) -> float:
    return round(100 * correct / answered, 2) if answered else 0.0


def suggestions(
    categories: list[Category], aggregates: dict[str, CategoryAggregate], dismissed: set[str]
) -> list[dict[str, Any]]:
    """Lowest-scoring categories with enough attempts ("Low Score"), then unstarted ones ("Not Started")."""
    settings = get_settings()
    low = []
    for category in categories:
        aggregate = aggregates.get(category.slug)
        answered = int(aggregate.answered) if aggregate else 0
        if category.slug in dismissed or answered < settings.suggest_min_attempts:
            continue
        percent = score(answered, int(aggregate.correct)) if aggregate else 0.0
        if percent < settings.suggest_low_score:
            low.append(
                {"category": category.name, "slug": category.slug, "score_percent": percent, "reason": "Low Score"}
            )
    low.sort(key=lambda s: (s["score_percent"], s["category"]))
    not_started = [
        {"category": c.name, "slug": c.slug, "score_percent": None, "reason": "Not Started"}
        for c in categories
        if c.slug not in aggregates and c.slug not in dismissed
    ]
    return (low + not_started)[: settings.suggest_max]


def build(user_id: str) -> dict[str, Any]:
    settings = get_settings()
    user = accounts.get_user(user_id)
    timezone = user.timezone if user else "UTC"
    today = today_in(timezone)
    categories = active_categories()
    per_category = {cat: agg for (cat, sub), agg in data.aggregates(user_id).items() if sub is None}
    answered = sum(int(a.answered) for a in per_category.values())
    correct = sum(int(a.correct) for a in per_category.values())
    completed = sum(
        1
        for c in categories
        if (a := per_category.get(c.slug))
        and int(a.answered) >= settings.progress_min_answered
        and score(int(a.answered), int(a.correct)) >= settings.progress_min_score
    )
    first_day = (today - timedelta(days=SNAPSHOT_DAYS)).isoformat()
    days = data.daily_stats(user_id, first_day, today.isoformat())
    now_iso = clock.iso(clock.now())
    dismissed = {d.category for d in data.dismissals(user_id) if d.until > now_iso}
    lasts = data.last_activities(user_id)
    return {
        "timezone": timezone,
        "overall_progress": {"completed": completed, "total": len(categories)},
        "performance": {
            "avg_score_percent": score(answered, correct),
            "correct": correct,
            "incorrect": answered - correct,
        },
        "daily_study_sec": {d: int(s.attempt_time_sec) + int(s.heartbeat_sec) for d, s in days.items()},
        "last_practice": _last(lasts.get("practice")),
        "last_exam": _last(lasts.get("exam")),
        "suggested_topics": suggestions(categories, per_category, dismissed),
    }


def _last(activity: data.LastActivity | None) -> dict[str, Any] | None:
    return None if activity is None else {**activity.summary, "finished_at": activity.finished_at}


def rebuild(user_id: str) -> None:
    """Recompute and store; a rebuild that started earlier than the stored one never overwrites it."""
    started = clock.now().isoformat(timespec="microseconds")
    body = build(user_id)
    item = DashboardSnapshot(PK=user_pk(user_id), SK=data.SNAPSHOT_SK, computed_at=started, body=body)
    try:
        item.save(condition=DashboardSnapshot.PK.does_not_exist() | (DashboardSnapshot.computed_at < started))
    except PutError as exc:
        if not is_condition_failure(exc):
            raise


def empty() -> dict[str, Any]:
    """What a learner sees before the pipeline built their first snapshot."""
    categories = active_categories()
    return {
        "timezone": "UTC",
        "overall_progress": {"completed": 0, "total": len(categories)},
        "performance": {"avg_score_percent": 0.0, "correct": 0, "incorrect": 0},
        "daily_study_sec": {},
        "last_practice": None,
        "last_exam": None,
        "suggested_topics": suggestions(categories, {}, set()),
    }
