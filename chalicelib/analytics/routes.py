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
from chalicelib.billing import service as billing
from chalicelib.core.http import Call, endpoint
from chalicelib.taxonomy.schemas import CategoryDetail, CategoryOut

TAGS = ("analytics",)


# The taxonomy with the learner's progress: served here because the progress is this domain's.
# The spec's example (its numbers and names, with the fields this API adds), shown in the API reference.
DASHBOARD_EXAMPLE = {
    "overall_progress": {"completed": 18, "total": 25},
    "performance": {"avg_score_percent": 78, "correct": 245, "incorrect": 69},
    "study_time": {"hours_this_week": 14.5, "delta_vs_last_week": 2.5},
    "recent_activity": {
        "last_practice": {
            "days_ago": 2,
            "score_percent": 80,
            "correct": 20,
            "incorrect": 5,
            "categories": ["Anatomy & Embryology", "Cancer and Palliative Care"],
        },
        "last_exam": {
            "days_ago": 5,
            "exam": "Exam A, Paper 2",
            "score_percent": 72,
            "time_spent_min": 165,
            "answered": 180,
        },
    },
    "suggested_topics": [
        {"category": "Anatomy & Embryology", "slug": "anatomy-embryology", "score_percent": 54, "reason": "Low Score"}
    ],
    "featured_resources": [
        {
            "id": "r1",
            "kind": "video",
            "title": "Surgical Anatomy of the Abdomen",
            "duration_sec": 750,
            "url": "https://example.com/video",
            "thumbnail_url": None,
            "alt_text": "",
        }
    ],
}
# The spec's entries, with the fields this API adds.
CATEGORIES_EXAMPLE = [
    {
        "slug": "anatomy-embryology",
        "name": "Anatomy & Embryology",
        "description": "",
        "order": 0,
        "question_count": 640,
        "progress": {"answered": 320, "correct": 172, "score_percent": 53.75},
    },
    {
        "slug": "orthopaedic-surgery",
        "name": "Orthopaedic Surgery",
        "description": "",
        "order": 1,
        "question_count": 380,
        "progress": {"answered": 110, "correct": 69, "score_percent": 62.73},
    },
]


@endpoint(
    "/categories",
    "GET",
    summary="Categories with my progress",
    tags=("taxonomy",),
    auth="optional",
    response=list[CategoryOut],
    example_response=CATEGORIES_EXAMPLE,
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
    example_response=DASHBOARD_EXAMPLE,
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
    errors=(401, 402),
)
def heatmap(call: Call) -> list[HeatmapDay]:
    billing.require_feature(call.user, "analytics")  # the paywall: a paid plan's analytics
    return service.heatmap(call.user)


@endpoint(
    "/analytics/trends",
    "GET",
    summary="Weekly score percent, last 12 weeks",
    tags=TAGS,
    response=list[TrendWeek],
    errors=(401, 402),
)
def trends(call: Call) -> list[TrendWeek]:
    billing.require_feature(call.user, "analytics")  # the paywall: a paid plan's analytics
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
