"""The dashboard snapshot: rebuilt from aggregates after every change, read with one GetItem.

What depends on the current time (this week's hours, days since the last session) is stored as
raw dates and finished on read, so a snapshot never goes stale just because a day passed.
The rules themselves live in `analytics.rules`; this module gathers their inputs and stores."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.accounts import data as accounts
from chalicelib.accounts.data import UserItem
from chalicelib.analytics import data, rules
from chalicelib.analytics.data import CategoryAggregate
from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.timeutil import local_date
from chalicelib.exams import service as exams
from chalicelib.review import data as review_data
from chalicelib.taxonomy import service as taxonomy


def thresholds() -> rules.Thresholds:
    settings = get_settings()
    return rules.Thresholds(
        progress_min_answered=settings.progress_min_answered,
        progress_min_score=settings.progress_min_score,
        suggest_min_attempts=settings.suggest_min_attempts,
        suggest_low_score=settings.suggest_low_score,
        suggest_max=settings.suggest_max,
    )


def today_in(timezone: str) -> date:
    return local_date(clock.now(), timezone)


def category_refs() -> list[rules.CategoryRef]:
    return [rules.CategoryRef(c.slug, c.name) for c in taxonomy.active_categories()]


def totals_by_category(aggregates: dict[tuple[str, str | None], CategoryAggregate]) -> dict[str, rules.Totals]:
    return {
        category: rules.Totals(int(a.answered), int(a.correct))
        for (category, sub), a in aggregates.items()
        if sub is None
    }


def build(user_id: str, user: UserItem | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dashboard snapshot, and the plan's inputs (read with the review queue: review.data)."""
    timezone = user.timezone if user else "UTC"
    first, last = rules.recent_window(today_in(timezone))
    categories = category_refs()
    aggregates = data.aggregates(user_id, consistent=True)
    totals = totals_by_category(aggregates)
    overall = rules.overall(totals)
    days = data.daily_stats(user_id, first.isoformat(), last.isoformat(), consistent=True)
    now_iso = clock.iso(clock.now())
    dismissed = {d.category for d in data.dismissals(user_id) if d.until > now_iso}
    lasts = data.last_activities(user_id)
    # with an exam date, topics never started come in the order the exam weighs them (the plan's)
    priority = exams.blueprint_counts() if user is not None and user.exam_date else None
    suggested = rules.suggestions(categories, totals, dismissed, thresholds(), priority)
    return _snapshot(timezone, categories, totals, overall, days, lasts, suggested), plan_inputs(user, aggregates, days)


def plan_inputs(
    user: UserItem | None, aggregates: dict[tuple[str, str | None], CategoryAggregate], days: dict[str, Any]
) -> dict[str, Any]:
    """What the plan to exam day needs of the learner: their exam date and budget, their pace over
    the snapshot's recent days, and per category the distinct questions seen and their accuracy."""
    return {
        "exam_date": user.exam_date if user else None,
        "daily_minutes": int(user.daily_minutes) if user and user.daily_minutes is not None else None,
        "recent_answers": sum(int(d.answered) for d in days.values()),
        "recent_answer_sec": sum(int(d.attempt_time_sec) for d in days.values()),
        "categories": {
            category: [int(a.seen or 0), int(a.answered), int(a.correct)]
            for (category, sub), a in sorted(aggregates.items(), key=lambda kv: kv[0][0])
            if sub is None
        },
    }


def _snapshot(
    timezone: str,
    categories: list[rules.CategoryRef],
    totals: dict[str, rules.Totals],
    overall: rules.Totals,
    days: dict[str, Any],
    lasts: dict[str, data.LastActivity],
    suggested: list[rules.Suggestion],
) -> dict[str, Any]:
    return {
        "timezone": timezone,
        "overall_progress": {
            "completed": rules.completed_count(categories, totals, thresholds()),
            "total": len(categories),
        },
        "performance": {
            "avg_score_percent": overall.score_percent,
            "correct": overall.correct,
            "incorrect": overall.answered - overall.correct,
        },
        "daily_study_sec": {d: int(s.attempt_time_sec) + int(s.heartbeat_sec) for d, s in days.items()},
        "last_practice": _last(lasts.get("practice")),
        "last_exam": _last(lasts.get("exam")),
        "suggested_topics": [s.as_dict() for s in suggested],
    }


def _last(activity: data.LastActivity | None) -> dict[str, Any] | None:
    return None if activity is None else {**activity.summary, "finished_at": activity.finished_at}


def rebuild(user_id: str) -> None:
    """Recompute and store; a rebuild that started earlier than the stored one never overwrites it."""
    started = clock.now().isoformat(timespec="microseconds")
    user = accounts.get_user(user_id)
    if user is None:
        return  # an erased account gets no new dashboard from late stream records
    body, inputs = build(user_id, user)
    data.save_snapshot(user_id, started, body)
    if user.exam_date:  # without one the plan has nothing to plan: no write (clear_plan_inputs)
        review_data.save_plan_inputs(user_id, started, inputs)


def clear_plan_inputs(user_id: str) -> None:
    """The exam date was cleared: the plan's inputs say so, stamped now, so that a rebuild which
    read the profile before the change (and started earlier) cannot put the old date back."""
    if accounts.is_erased(user_id):
        return  # a late record of an erased account must not recreate its data
    started = clock.now().isoformat(timespec="microseconds")
    review_data.save_plan_inputs(user_id, started, {"exam_date": None, "daily_minutes": None})


def empty() -> dict[str, Any]:
    """What a learner sees before the pipeline built their first snapshot."""
    categories = category_refs()
    return {
        "timezone": "UTC",
        "overall_progress": {"completed": 0, "total": len(categories)},
        "performance": {"avg_score_percent": 0.0, "correct": 0, "incorrect": 0},
        "daily_study_sec": {},
        "last_practice": None,
        "last_exam": None,
        "suggested_topics": [s.as_dict() for s in rules.suggestions(categories, {}, set(), thresholds())],
    }
