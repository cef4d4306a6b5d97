"""Reads for the dashboard and analytics screens: each is one GetItem or one Query."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.analytics import data, snapshot
from chalicelib.analytics.data import DailyStat, DashboardSnapshot, HeartbeatClaim, TopicDismissal
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
from chalicelib.core.config import get_settings
from chalicelib.core.db import cancelled_positions, is_condition_failure, transaction, typed, user_pk
from chalicelib.core.errors import field_error
from chalicelib.core.security import Principal
from chalicelib.resources import data as resources

FEATURED_TTL_SEC = 60
FEATURED_LIMIT = 6
_featured_cache: dict[str, Any] = {}


def _snapshot_body(user_id: str) -> tuple[dict[str, Any], DashboardSnapshot | None]:
    item = data.snapshot(user_id)
    return (item.body if item else snapshot.empty()), item


def _local_date(iso_time: str, timezone: str) -> date:
    return datetime.fromisoformat(iso_time.replace("Z", "+00:00")).astimezone(ZoneInfo(timezone)).date()


def _week_hours(daily: dict[str, int], today: date) -> tuple[float, float]:
    monday = today - timedelta(days=today.weekday())
    this_week = sum(s for d, s in daily.items() if monday <= date.fromisoformat(d) <= today)
    last_week = sum(s for d, s in daily.items() if monday - timedelta(days=7) <= date.fromisoformat(d) < monday)
    return round(this_week / 3600, 1), round((this_week - last_week) / 3600, 1)


def featured_resources() -> list[FeaturedResource]:
    """Shared by every learner's dashboard; cached in the Lambda for 60 s (one Query when cold)."""
    cached = _featured_cache.get("value")
    if cached is None or time.monotonic() - _featured_cache["at"] > FEATURED_TTL_SEC:
        items, _ = resources.list_resources(
            status="published", category=None, kind=None, featured=True, limit=FEATURED_LIMIT, cursor=None
        )
        cached = [
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
        _featured_cache.update(value=cached, at=time.monotonic())
    return list(cached)


def dashboard(principal: Principal) -> Dashboard:
    body, _ = _snapshot_body(principal.user_id)
    timezone = body["timezone"]
    today = snapshot.today_in(timezone)
    hours, delta = _week_hours(body["daily_study_sec"], today)
    practice, exam = body.get("last_practice"), body.get("last_exam")
    return Dashboard(
        overall_progress=body["overall_progress"],
        performance=body["performance"],
        study_time=StudyTime(hours_this_week=hours, delta_vs_last_week=delta),
        recent_activity=RecentActivity(
            last_practice=LastPractice(
                days_ago=(today - _local_date(practice["finished_at"], timezone)).days,
                score_percent=practice["score_percent"],
                correct=practice["correct"],
                incorrect=practice["incorrect"],
                categories=practice["categories"],
            )
            if practice
            else None,
            last_exam=LastExam(
                days_ago=(today - _local_date(exam["finished_at"], timezone)).days,
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
    hours, _ = _week_hours(body["daily_study_sec"], today)
    performance, progress = body["performance"], body["overall_progress"]
    return Overview(
        answered=performance["correct"] + performance["incorrect"],
        correct=performance["correct"],
        incorrect=performance["incorrect"],
        avg_score_percent=performance["avg_score_percent"],
        categories_completed=progress["completed"],
        categories_total=progress["total"],
        hours_this_week=hours,
        hours_last_14_days=round(sum(body["daily_study_sec"].values()) / 3600, 1),
    )


def _days(principal: Principal, count: int) -> tuple[list[date], dict[str, DailyStat]]:
    today = snapshot.today_in(principal.timezone)
    days = [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]
    return days, data.daily_stats(principal.user_id, days[0].isoformat(), today.isoformat())


def study_time(principal: Principal, range_name: str) -> StudyTimeSeries:
    days, stats = _days(principal, 7 if range_name == "week" else 30)
    series = []
    for day in days:
        stat = stats.get(day.isoformat())
        seconds = int(stat.attempt_time_sec) + int(stat.heartbeat_sec) if stat else 0
        series.append(
            StudyDay(
                date=day.isoformat(),
                minutes=round(seconds / 60, 1),
                answered=int(stat.answered) if stat else 0,
                correct=int(stat.correct) if stat else 0,
            )
        )
    return StudyTimeSeries(
        range=range_name,
        days=series,
        total_minutes=round(sum(d.minutes for d in series), 1),
    )


def heatmap(principal: Principal) -> list[HeatmapDay]:
    days, stats = _days(principal, 365)
    return [
        HeatmapDay(date=d.isoformat(), answered=int(stats[d.isoformat()].answered) if d.isoformat() in stats else 0)
        for d in days
    ]


def trends(principal: Principal, weeks: int = 12) -> list[TrendWeek]:
    today = snapshot.today_in(principal.timezone)
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    stats = data.daily_stats(principal.user_id, first_monday.isoformat(), today.isoformat())
    result = []
    for index in range(weeks):
        start = first_monday + timedelta(weeks=index)
        week = [s for d, s in stats.items() if start <= date.fromisoformat(d) < start + timedelta(days=7)]
        answered, correct = sum(int(s.answered) for s in week), sum(int(s.correct) for s in week)
        result.append(
            TrendWeek(
                week_start=start.isoformat(),
                answered=answered,
                correct=correct,
                score_percent=snapshot.score(answered, correct) if answered else None,
            )
        )
    return result


def category_stats(principal: Principal) -> list[CategoryStats]:
    aggregates = data.aggregates(principal.user_id)
    names = {c.slug: c.name for c in snapshot.active_categories()}
    result = []
    for (slug, sub), aggregate in sorted(aggregates.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        answered, correct = int(aggregate.answered), int(aggregate.correct)
        if sub is None:
            result.append(
                CategoryStats(
                    slug=slug,
                    name=names.get(slug, slug),
                    answered=answered,
                    correct=correct,
                    score_percent=snapshot.score(answered, correct),
                    last_practised_at=aggregate.last_practised_at,
                )
            )
        elif result and result[-1].slug == slug:
            result[-1].subcategories.append(
                SubcategoryStats(
                    slug=sub, answered=answered, correct=correct, score_percent=snapshot.score(answered, correct)
                )
            )
    return result


def heartbeat(principal: Principal, event_id: str, seconds: int) -> HeartbeatOut:
    """Adds on-page time once per event id, and never beyond the daily cap."""
    day = snapshot.today_in(principal.timezone).isoformat()
    pk = user_pk(principal.user_id)
    claim = HeartbeatClaim(PK=pk, SK=f"HEARTBEAT#{event_id}", seconds=seconds, expires_at=clock.epoch() + 2 * 86400)
    stat = DailyStat(PK=pk, SK=data.DAY_PREFIX + day)
    cap = get_settings().heartbeat_daily_cap_sec - seconds
    try:
        with transaction() as tx:
            tx.save(claim, condition=HeartbeatClaim.PK.does_not_exist())
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


DISMISS_DAYS = 14


def dismiss(principal: Principal, category: str) -> list[SuggestedTopic]:
    """Hide a suggestion for 14 days: recorded, and removed from the snapshot at once."""
    if category not in {c.slug for c in snapshot.active_categories()}:
        raise field_error("category", "No such active category.", "unknown_category")
    until = clock.now() + timedelta(days=DISMISS_DAYS)
    TopicDismissal(
        PK=user_pk(principal.user_id),
        SK=f"DISMISS#{category}",
        category=category,
        until=clock.iso(until),
        expires_at=int(until.timestamp()),
    ).save()
    body, item = _snapshot_body(principal.user_id)
    body["suggested_topics"] = [s for s in body["suggested_topics"] if s["slug"] != category]
    if item is not None:
        try:  # the pipeline rebuilds it anyway (and fills the gap); this makes the change visible now
            DashboardSnapshot(PK=item.PK, SK=item.SK, computed_at=item.computed_at, body=body).save(
                condition=DashboardSnapshot.computed_at == item.computed_at
            )
        except PutError as exc:
            if not is_condition_failure(exc):
                raise
    return [SuggestedTopic(**s) for s in body["suggested_topics"]]
