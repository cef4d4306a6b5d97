"""HTTP routes of question reports."""

from __future__ import annotations

from chalicelib.core.http import Call, endpoint
from chalicelib.core.security import Role
from chalicelib.reports import service
from chalicelib.reports.schemas import ReportClose, ReportIn, ReportOut, ReportQuery, ReportQueue

TAGS = ("questions",)


@endpoint(
    "/questions/{question_id}/reports",
    "POST",
    summary="Report a problem with a question you have answered (one open report per question)",
    tags=TAGS,
    body=ReportIn,
    response=ReportOut,
    status=201,
    errors=(401, 403, 404, 409, 422, 429),
)
def report_question(call: Call) -> ReportOut:
    return service.create(call.user, call.params["question_id"], call.body)


@endpoint(
    "/questions/reports",
    "GET",
    summary="The report queue (editors): newest first, or the most reported questions",
    tags=TAGS,
    roles=(Role.EDITOR,),
    query=ReportQuery,
    response=ReportQueue,
    errors=(401, 403, 422),
)
def report_queue(call: Call) -> ReportQueue:
    return service.queue(call.query)


@endpoint(
    "/questions/{question_id}/reports/{report_id}",
    "PATCH",
    summary="Resolve or reject a report with a note (editors); the reporter is told",
    tags=TAGS,
    roles=(Role.EDITOR,),
    body=ReportClose,
    response=ReportOut,
    errors=(401, 403, 404, 409, 422),
)
def close_report(call: Call) -> ReportOut:
    return service.close(call.user, call.params["question_id"], call.params["report_id"], call.body)
