"""HTTP routes of spaced review."""

from __future__ import annotations

from chalicelib.core.http import Call, endpoint
from chalicelib.review import service
from chalicelib.review.schemas import ForecastOut, QueueOut

TAGS = ("review",)


@endpoint(
    "/review/queue",
    "GET",
    summary="Questions due for review now, most overdue first, within today's allowance",
    tags=TAGS,
    response=QueueOut,
    errors=(401,),
)
def review_queue(call: Call) -> QueueOut:
    return service.queue(call.user.user_id)


@endpoint(
    "/review/forecast",
    "GET",
    summary="Reviews due on each of the next 30 days (in the learner's time zone)",
    tags=TAGS,
    response=ForecastOut,
    errors=(401,),
)
def review_forecast(call: Call) -> ForecastOut:
    return service.forecast(call.user.user_id)
