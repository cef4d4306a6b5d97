"""HTTP routes of the dashboard, analytics and recommendations: all scoped to the signed-in learner."""

from __future__ import annotations

from chalicelib.analytics import service
from chalicelib.analytics.schemas import (
    CategoryStats,
    Dashboard,
    DismissIn,
    HeartbeatIn,
    HeartbeatOut,
    HeatmapDay,
    Overview,
    StudyTimeQuery,
    StudyTimeSeries,
    SuggestedTopic,
    TrendWeek,
)
from chalicelib.core.http import Call, endpoint
from chalicelib.taxonomy.schemas import CategoryDetail, CategoryOut

TAGS = ("analytics",)


# The taxonomy with the learner's progress: served here because the progress is this domain's.
@endpoint(
    "/categories",
    "GET",
    summary="Categories with my progress",
    tags=("taxonomy",),
    auth="optional",
    response=list[CategoryOut],
)
def list_categories(call: Call) -> list[CategoryOut]:
    return service.categories_with_progress(call.principal)


@endpoint(
    "/categories/{slug}",
    "GET",
    summary="A category with its subcategories and my progress",
    tags=("taxonomy",),
    auth="optional",
    response=CategoryDetail,
    errors=(404,),
)
def category_detail(call: Call) -> CategoryDetail:
    return service.category_with_progress(call.params["slug"], call.principal)


@endpoint(
    "/dashboard",
    "GET",
    summary="Everything the dashboard shows, in one read",
    tags=("dashboard",),
    response=Dashboard,
    errors=(401,),
)
def dashboard(call: Call) -> Dashboard:
    return service.dashboard(call.user)


@endpoint("/analytics/overview", "GET", summary="Totals and progress", tags=TAGS, response=Overview, errors=(401,))
def overview(call: Call) -> Overview:
    return service.overview(call.user)


@endpoint(
    "/analytics/study-time",
    "GET",
    summary="Daily study minutes for the last week or month",
    tags=TAGS,
    query=StudyTimeQuery,
    response=StudyTimeSeries,
    errors=(401, 422),
)
def study_time(call: Call) -> StudyTimeSeries:
    return service.study_time(call.user, call.query.range)


@endpoint(
    "/analytics/categories",
    "GET",
    summary="My results per category and subcategory",
    tags=TAGS,
    response=list[CategoryStats],
    errors=(401,),
)
def categories(call: Call) -> list[CategoryStats]:
    return service.category_stats(call.user)


@endpoint(
    "/practice/summary",
    "GET",
    summary="Per-category practice aggregates",
    tags=("practice",),
    response=list[CategoryStats],
    errors=(401,),
)
def practice_summary(call: Call) -> list[CategoryStats]:
    return service.category_stats(call.user)


@endpoint(
    "/analytics/heatmap",
    "GET",
    summary="Questions answered per day, last 365 days",
    tags=TAGS,
    response=list[HeatmapDay],
    errors=(401,),
)
def heatmap(call: Call) -> list[HeatmapDay]:
    return service.heatmap(call.user)


@endpoint(
    "/analytics/trends",
    "GET",
    summary="Weekly score percent, last 12 weeks",
    tags=TAGS,
    response=list[TrendWeek],
    errors=(401,),
)
def trends(call: Call) -> list[TrendWeek]:
    return service.trends(call.user)


@endpoint(
    "/analytics/heartbeat",
    "POST",
    summary="Add on-page study time (idempotent per event_id)",
    tags=TAGS,
    body=HeartbeatIn,
    response=HeartbeatOut,
    errors=(400, 401, 422),
)
def heartbeat(call: Call) -> HeartbeatOut:
    return service.heartbeat(call.user, call.body.event_id, call.body.seconds)


@endpoint(
    "/recommendations/topics",
    "GET",
    summary="Suggested topics",
    tags=("recommendations",),
    response=list[SuggestedTopic],
    errors=(401,),
)
def topics(call: Call) -> list[SuggestedTopic]:
    return service.suggested_topics(call.user)


@endpoint(
    "/recommendations/dismiss",
    "POST",
    summary="Hide a suggested topic for 14 days",
    tags=("recommendations",),
    body=DismissIn,
    response=list[SuggestedTopic],
    errors=(400, 401, 422),
)
def dismiss(call: Call) -> list[SuggestedTopic]:
    return service.dismiss(call.user, call.body.category)
