"""HTTP routes of the question bank."""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Response

from chalicelib.core.errors import PayloadTooLarge
from chalicelib.core.http import Call, endpoint, json_response
from chalicelib.core.pagination import Page
from chalicelib.core.security import Role
from chalicelib.questions import imports, service
from chalicelib.questions.data import ImportJob, ImportRowReport
from chalicelib.questions.schemas import (
    ImportJobOut,
    ImportQuery,
    ImportRowOut,
    QuestionForLearner,
    QuestionIn,
    QuestionPatch,
    QuestionPublic,
    QuestionQuery,
    QuestionStaff,
    VersionOut,
)

TAGS = ("questions",)
EDITORS = (Role.EDITOR,)
STAFF_ERRORS = (400, 401, 403, 404, 409, 422)
QuestionView = QuestionStaff | QuestionPublic
OneQuestion = QuestionStaff | QuestionForLearner


@endpoint(
    "/questions",
    "GET",
    summary="Published questions (staff: any status, with answers)",
    tags=TAGS,
    query=QuestionQuery,
    response=Page[QuestionView],
    errors=(400, 401, 403, 422),
)
def list_questions(call: Call) -> Page[Any]:
    return service.list_questions(call.principal, call.query)


@endpoint(
    "/questions/{question_id}",
    "GET",
    summary="One question (answers only for staff; a learner's review card once answered)",
    tags=TAGS,
    response=OneQuestion,
    errors=(401, 404),
)
def get_question(call: Call) -> OneQuestion:
    return service.get_question(call.principal, call.params["question_id"])


@endpoint(
    "/questions",
    "POST",
    summary="Create a question",
    tags=TAGS,
    roles=EDITORS,
    body=QuestionIn,
    response=QuestionStaff,
    status=201,
    errors=STAFF_ERRORS,
)
def create_question(call: Call) -> QuestionStaff:
    return service.create_question(call.user, call.body)


@endpoint(
    "/questions/{question_id}",
    "PUT",
    summary="Replace a question (new version)",
    tags=TAGS,
    roles=EDITORS,
    body=QuestionIn,
    response=QuestionStaff,
    errors=STAFF_ERRORS,
)
def replace_question(call: Call) -> QuestionStaff:
    return service.replace_question(call.user, call.params["question_id"], call.body)


@endpoint(
    "/questions/{question_id}",
    "PATCH",
    summary="Edit part of a question (new version)",
    tags=TAGS,
    roles=EDITORS,
    body=QuestionPatch,
    response=QuestionStaff,
    errors=STAFF_ERRORS,
)
def patch_question(call: Call) -> QuestionStaff:
    return service.patch_question(call.user, call.params["question_id"], call.body)


@endpoint(
    "/questions/{question_id}",
    "DELETE",
    summary="Delete a never-published draft; archive anything learners may have answered",
    tags=TAGS,
    roles=EDITORS,
    response=QuestionStaff | None,
    errors=STAFF_ERRORS,
)
def delete_question(call: Call) -> QuestionStaff | Response:
    archived = service.delete_question(call.user, call.params["question_id"])
    return archived if archived is not None else json_response(204, None, no_store=True)


@endpoint(
    "/questions/{question_id}/versions",
    "GET",
    summary="Every version of a question, newest first",
    tags=TAGS,
    roles=EDITORS,
    response=list[VersionOut],
    errors=(401, 403, 404),
)
def list_versions(call: Call) -> list[VersionOut]:
    return service.list_versions(call.params["question_id"])


IMPORT_MAX_BYTES = 6 * 1024 * 1024


def _job_out(job: ImportJob, rows: list[ImportRowReport]) -> ImportJobOut:
    return ImportJobOut(
        id=job.job_id,
        status=job.status,
        dry_run=job.dry_run,
        source=job.source,
        total=int(job.total),
        created=int(job.created),
        skipped=int(job.skipped),
        failed=int(job.failed),
        created_at=job.created_at,
        finished_at=job.finished_at,
        rows=[
            ImportRowOut.model_validate({"row": int(r.row), "outcome": r.outcome, "errors": json.loads(r.errors)})
            for r in rows
        ],
    )


@endpoint(
    "/questions/import",
    "POST",
    tags=TAGS,
    roles=EDITORS,
    query=ImportQuery,
    response=ImportJobOut,
    status=202,
    content_types=["application/json", "text/csv"],
    errors=(400, 401, 403, 413, 415, 422, 429),
    summary="Import questions from JSON {questions: [...], dry_run} or CSV (docs/question-import.md); "
    "runs asynchronously, poll the job for its report",
)
def start_import(call: Call) -> ImportJobOut:
    raw = call.raw_body
    if len(raw) > IMPORT_MAX_BYTES:
        raise PayloadTooLarge(f"An import may be at most {IMPORT_MAX_BYTES // (1024 * 1024)} MB.")
    content_type = call.header("content-type") or "application/json"
    rows, dry_run, source = imports.parse_upload(content_type, raw, call.query.dry_run)
    job = imports.start_import(call.user.user_id, rows, dry_run=dry_run, source=source)
    return _job_out(job, [])


@endpoint(
    "/questions/import/{job_id}",
    "GET",
    summary="An import job and its row-by-row report",
    tags=TAGS,
    roles=EDITORS,
    response=ImportJobOut,
    errors=(401, 403, 404),
)
def import_report(call: Call) -> ImportJobOut:
    return _job_out(*imports.get_report(call.params["job_id"]))
