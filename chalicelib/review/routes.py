"""HTTP routes of spaced review."""

from __future__ import annotations

from chalicelib.billing import service as billing
from chalicelib.core import flags
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
    errors=(401, 402, 404),
)
def review_queue(call: Call) -> QueueOut:
    _entitled(call)
    return service.queue(call.user.user_id)


@endpoint(
    "/review/forecast",
    "GET",
    summary="Reviews due on each of the next 30 days (in the learner's time zone)",
    tags=TAGS,
    response=ForecastOut,
    errors=(401, 402, 404),
)
def review_forecast(call: Call) -> ForecastOut:
    _entitled(call)
    return service.forecast(call.user.user_id)


def _entitled(call: Call) -> None:
    flags.require("review")  # the module flag: off, the routes do not exist
    billing.require_feature(call.user, "review_queue")
