"""Reads for the dashboard and analytics screens: each is one GetItem or one Query (plus the
learner's time zone, cached per container for 30 s). The rules are in `analytics.rules`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.accounts import service as accounts
from chalicelib.analytics import data, rules, snapshot
from chalicelib.analytics.data import DailyStat, DashboardSnapshot
from chalicelib.analytics.schemas import (
    CategoryStats,
    Dashboard,
    FeaturedResource,
    HeartbeatOut,
    HeatmapDay,
    LastExam,
    LastPractice,
    Overview,
    RecentActivity,
    StudyDay,
    StudyTime,
    StudyTimeSeries,
    SubcategoryStats,
    SuggestedTopic,
    TrendWeek,
)
from chalicelib.core import clock
from chalicelib.core.cache import TtlCache
from chalicelib.core.config import get_settings
from chalicelib.core.db import cancelled_positions, is_condition_failure, transaction, typed
from chalicelib.core.errors import field_error
from chalicelib.core.security import Principal
from chalicelib.core.timeutil import local_date
from chalicelib.questions.rules import score_percent
from chalicelib.resources import data as resources
from chalicelib.taxonomy import service as taxonomy
from chalicelib.taxonomy.schemas import CategoryDetail, CategoryOut, Progress

FEATURED_TTL_SEC = 60
FEATURED_LIMIT = 6
DISMISS_DAYS = 14
_featured: TtlCache[list[FeaturedResource]] = TtlCache("featured-resources", FEATURED_TTL_SEC)


def _snapshot_body(user_id: str) -> tuple[dict[str, Any], DashboardSnapshot | None]:
    item = data.snapshot(user_id)
    return (item.body if item else snapshot.empty()), item


def featured_resources() -> list[FeaturedResource]:
    """Shared by every learner's dashboard; cached in the Lambda for 60 s (one Query when cold)."""

    def load() -> list[FeaturedResource]:
        items, _ = resources.list_resources(
            status="published", category=None, kind=None, featured=True, limit=FEATURED_LIMIT, cursor=None
        )
        return [
            FeaturedResource(
                id=r.resource_id,
                kind=r.kind,
                title=r.title,
                duration_sec=int(r.duration_sec),
                url=r.url,
                thumbnail_url=r.thumbnail_url,
                alt_text=r.alt_text,
            )
            for r in items
        ]

    return list(_featured.get_or_load("featured", load))


def _days_ago(today: date, finished_at: str, timezone: str) -> int:
    return rules.days_ago(today, local_date(finished_at, timezone))


def dashboard(principal: Principal) -> Dashboard:
    body, _ = _snapshot_body(principal.user_id)
    timezone = body["timezone"]
    today = snapshot.today_in(timezone)
    week = rules.week_hours(body["daily_study_sec"], today)
    practice, exam = body.get("last_practice"), body.get("last_exam")
    return Dashboard(
        overall_progress=body["overall_progress"],
        performance=body["performance"],
        study_time=StudyTime(hours_this_week=week.hours_this_week, delta_vs_last_week=week.delta_vs_last_week),
        recent_activity=RecentActivity(
            last_practice=LastPractice(
                days_ago=_days_ago(today, practice["finished_at"], timezone),
                score_percent=practice["score_percent"],
                correct=practice["correct"],
                incorrect=practice["incorrect"],
                categories=practice["categories"],
            )
            if practice
            else None,
            last_exam=LastExam(
                days_ago=_days_ago(today, exam["finished_at"], timezone),
                exam=exam["exam"],
                score_percent=exam["score_percent"],
                time_spent_min=exam["time_spent_min"],
                answered=exam["answered"],
            )
            if exam
            else None,
        ),
        suggested_topics=[SuggestedTopic(**s) for s in body["suggested_topics"]],
        featured_resources=featured_resources(),
    )


def suggested_topics(principal: Principal) -> list[SuggestedTopic]:
    body, _ = _snapshot_body(principal.user_id)
    return [SuggestedTopic(**s) for s in body["suggested_topics"]]


def overview(principal: Principal) -> Overview:
    body, _ = _snapshot_body(principal.user_id)
    today = snapshot.today_in(body["timezone"])
    performance, progress = body["performance"], body["overall_progress"]
    return Overview(
        answered=performance["correct"] + performance["incorrect"],
        correct=performance["correct"],
        incorrect=performance["incorrect"],
        avg_score_percent=performance["avg_score_percent"],
        categories_completed=progress["completed"],
        categories_total=progress["total"],
        hours_this_week=rules.week_hours(body["daily_study_sec"], today).hours_this_week,
        hours_last_14_days=rules.hours_last_days(body["daily_study_sec"], today),
    )


def _learner_today(principal: Principal) -> date:
    return snapshot.today_in(accounts.learner_timezone(principal.user_id))


def _stats(user_id: str, first: date, last: date) -> dict[str, rules.Day]:
    found = data.daily_stats(user_id, first.isoformat(), last.isoformat())
    return {day: _day(stat) for day, stat in found.items()}


def _day(stat: DailyStat) -> rules.Day:
    return rules.Day(int(stat.answered), int(stat.correct), int(stat.attempt_time_sec) + int(stat.heartbeat_sec))


def study_time(principal: Principal, range_name: str) -> StudyTimeSeries:
    days = rules.last_days(_learner_today(principal), 7 if range_name == "week" else 30)
    stats = _stats(principal.user_id, days[0], days[-1])
    series = [
        StudyDay(
            date=day.isoformat(), minutes=round(stat.seconds / 60, 1), answered=stat.answered, correct=stat.correct
        )
        for day, stat in rules.daily_series(days, stats)
    ]
    return StudyTimeSeries(range=range_name, days=series, total_minutes=round(sum(d.minutes for d in series), 1))


def heatmap(principal: Principal) -> list[HeatmapDay]:
    days = rules.last_days(_learner_today(principal), 365)
    stats = _stats(principal.user_id, days[0], days[-1])
    return [HeatmapDay(date=day.isoformat(), answered=stat.answered) for day, stat in rules.daily_series(days, stats)]


def trends(principal: Principal, weeks: int = 12) -> list[TrendWeek]:
    today = _learner_today(principal)
    stats = _stats(principal.user_id, rules.first_trend_day(today, weeks), today)
    return [
        TrendWeek(week_start=w.start.isoformat(), answered=w.answered, correct=w.correct, score_percent=w.score_percent)
        for w in rules.weekly_series(today, weeks, stats)
    ]


def category_stats(principal: Principal) -> list[CategoryStats]:
    aggregates = data.aggregates(principal.user_id)
    names = taxonomy.category_names()
    result: list[CategoryStats] = []
    for (slug, sub), aggregate in sorted(aggregates.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        answered, correct = int(aggregate.answered), int(aggregate.correct)
        if sub is None:
            result.append(
                CategoryStats(
                    slug=slug,
                    name=names.get(slug, slug),
                    answered=answered,
                    correct=correct,
                    score_percent=score_percent(answered, correct),
                    last_practised_at=aggregate.last_practised_at,
                )
            )
        elif result and result[-1].slug == slug:
            result[-1].subcategories.append(
                SubcategoryStats(
                    slug=sub, answered=answered, correct=correct, score_percent=score_percent(answered, correct)
                )
            )
    return result


# --- categories with the learner's progress (GET /categories, /categories/{slug}) ----------------


def _progress(principal: Principal | None, category: str | None = None) -> taxonomy.ProgressByNode:
    if principal is None:
        return taxonomy.NO_PROGRESS
    return {
        node: Progress(
            answered=int(a.answered),
            correct=int(a.correct),
            score_percent=score_percent(int(a.answered), int(a.correct)),
        )
        for node, a in data.aggregates(principal.user_id, category).items()
        if int(a.answered)
    }


def categories_with_progress(principal: Principal | None) -> list[CategoryOut]:
    return taxonomy.list_categories(principal, _progress(principal))


def category_with_progress(slug: str, principal: Principal | None) -> CategoryDetail:
    return taxonomy.category_detail(slug, principal, _progress(principal, slug))


# --- learner actions -----------------------------------------------------------------------------


def heartbeat(principal: Principal, event_id: str, seconds: int) -> HeartbeatOut:
    """Adds on-page time once per event id, and never beyond the daily cap."""
    day = _learner_today(principal).isoformat()
    claim = data.heartbeat_claim(principal.user_id, event_id, seconds, clock.epoch() + 2 * 86400)
    stat = data.day_ref(principal.user_id, day)
    cap = get_settings().heartbeat_daily_cap_sec - seconds
    try:
        with transaction() as tx:
            tx.save(claim, condition=type(claim).PK.does_not_exist())
            tx.update(
                stat,
                actions=[typed(DailyStat), DailyStat.date.set(day), DailyStat.heartbeat_sec.add(seconds)],
                condition=DailyStat.heartbeat_sec.does_not_exist() | (DailyStat.heartbeat_sec <= cap),
            )
    except TransactWriteError as exc:
        failed = cancelled_positions(exc) if is_condition_failure(exc) else []
        if 0 in failed:
            return HeartbeatOut(counted=False, reason="duplicate")
        if 1 in failed:
            return HeartbeatOut(counted=False, reason="daily_cap")
        raise
    return HeartbeatOut(counted=True, reason="counted")


def dismiss(principal: Principal, category: str) -> list[SuggestedTopic]:
    """Hide a suggestion for 14 days: recorded, and removed from the snapshot at once."""
    if category not in taxonomy.category_names():
        raise field_error("category", "No such active category.", "unknown_category")
    until = clock.now() + timedelta(days=DISMISS_DAYS)
    data.dismissal(principal.user_id, category, clock.iso(until), int(until.timestamp())).save()
    body, item = _snapshot_body(principal.user_id)
    body["suggested_topics"] = [s for s in body["suggested_topics"] if s["slug"] != category]
    if item is not None:  # the pipeline rebuilds it anyway (and fills the gap); this makes the change visible now
        data.replace_snapshot_body(item, body)
    return [SuggestedTopic(**s) for s in body["suggested_topics"]]
