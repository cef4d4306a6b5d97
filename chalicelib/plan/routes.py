"""HTTP routes of the plan to exam day."""

from __future__ import annotations

from chalicelib.core.http import Call, endpoint
from chalicelib.plan import service
from chalicelib.plan.schemas import PlanToday

TAGS = ("plan",)


@endpoint(
    "/plan/today",
    "GET",
    summary="Today's reviews and new questions on the way to the exam date, and whether the learner is behind",
    tags=TAGS,
    response=PlanToday,
    errors=(401, 409),
)
def plan_today(call: Call) -> PlanToday:
    return service.today(call.user)
