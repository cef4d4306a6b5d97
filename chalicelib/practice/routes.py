"""HTTP routes of Practice Mode. Every route is scoped to the signed-in learner's own sessions."""

from __future__ import annotations

from chalicelib.core.http import Call, endpoint
from chalicelib.core.pagination import Page, PageQuery
from chalicelib.practice import service
from chalicelib.practice.schemas import AttemptIn, AttemptResult, FlagIn, FlagOut, SessionCreate, SessionOut, Summary

TAGS = ("practice",)


@endpoint(
    "/practice/sessions",
    "POST",
    summary="Start a practice session",
    tags=TAGS,
    body=SessionCreate,
    response=SessionOut,
    status=201,
    errors=(400, 401, 402, 422, 429),
)
def create_session(call: Call) -> SessionOut:
    return service.create_session(call.user, call.body)


@endpoint(
    "/practice/sessions",
    "GET",
    summary="My practice sessions, newest first",
    tags=TAGS,
    query=PageQuery,
    response=Page[Summary],
    errors=(400, 401, 422),
)
def history(call: Call) -> Page[Summary]:
    return service.history(call.user, call.query.limit, call.query.cursor)


@endpoint(
    "/practice/sessions/{session_id}",
    "GET",
    summary="A session: questions, progress, my answers",
    tags=TAGS,
    response=SessionOut,
    errors=(401, 404),
)
def get_session(call: Call) -> SessionOut:
    return service.get_session(call.user, call.params["session_id"])


@endpoint(
    "/practice/sessions/{session_id}/attempts",
    "POST",
    summary="Answer a question; get feedback",
    tags=TAGS,
    body=AttemptIn,
    response=AttemptResult,
    errors=(400, 401, 402, 404, 409, 422, 429),
)
def submit_attempt(call: Call) -> AttemptResult:
    return service.submit_attempt(call.user, call.params["session_id"], call.body)


@endpoint(
    "/practice/sessions/{session_id}/flags",
    "POST",
    summary="Flag or unflag a question for review",
    tags=TAGS,
    body=FlagIn,
    response=FlagOut,
    errors=(400, 401, 404, 422),
)
def set_flag(call: Call) -> FlagOut:
    return service.set_flag(call.user, call.params["session_id"], call.body.question_id, call.body.flagged)


@endpoint(
    "/practice/sessions/{session_id}/complete",
    "POST",
    summary="Complete the session; get the score",
    tags=TAGS,
    response=Summary,
    errors=(401, 404),
)
def complete(call: Call) -> Summary:
    return service.complete(call.user, call.params["session_id"])
