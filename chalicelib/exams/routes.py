"""HTTP routes of Exam Mode. Learners reach only their own sessions; examiners manage templates."""

from __future__ import annotations

from chalicelib.core.http import Call, endpoint
from chalicelib.core.pagination import Page, PageQuery
from chalicelib.core.security import Role
from chalicelib.exams import service
from chalicelib.exams.schemas import (
    AccommodationIn,
    AnswersIn,
    ExamAttemptsIn,
    HistoryItem,
    Result,
    Review,
    SaveResult,
    SessionOut,
    StartIn,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
    TemplateStaffOut,
)

TAGS = ("exams",)
EXAMINERS = (Role.EXAMINER,)
STAFF_ERRORS = (400, 401, 403, 404, 409, 422)


# The spec's examples, with its numeric ids written as the strings this API uses.
TEMPLATES_EXAMPLE = [
    {
        "id": "1",
        "name": "Exam A, Paper 2",
        "paper": "Paper 2",
        "duration_minutes": 180,
        "total_questions": 180,
        "description": "",
        "pass_mark_percent": 60.0,
    }
]
REVIEW_EXAMPLE = {
    "id": "77",
    "template": {"name": "Exam A, Paper 2"},
    "score_percent": 72,
    "passed": True,
    "standing": {"percentile": 64.5, "sat": 212},
    "attempts": [
        {
            "question_id": "1001",
            "category": "anatomy-embryology",
            "selected_option_ids": ["9001"],
            "correct_option_ids": ["9001"],
            "is_correct": True,
            "time_spent_sec": 54,
            "explanation": "...",
            "statistics": {
                "answered": 1840,
                "percent_correct": 61.2,
                "options": [{"option_id": "9001", "percent": 61.2}, {"option_id": "9002", "percent": 38.8}],
                "median_time_sec": 52,
            },
        }
    ],
    "categories": [{"category": "Anatomy & Embryology", "total": 1, "correct": 1, "score_percent": 100.0}],
}


@endpoint(
    "/exams/templates",
    "GET",
    summary="Mock exam templates (learners: active ones)",
    tags=TAGS,
    auth="optional",
    response=list[TemplateStaffOut | TemplateOut],
    example_response=TEMPLATES_EXAMPLE,
)
def list_templates(call: Call) -> list[TemplateOut]:
    return service.list_templates(call.principal)


@endpoint(
    "/exams/templates",
    "POST",
    summary="Create a template: a fixed paper or a blueprint",
    tags=TAGS,
    roles=EXAMINERS,
    body=TemplateIn,
    response=TemplateStaffOut,
    status=201,
    errors=STAFF_ERRORS,
)
def create_template(call: Call) -> TemplateOut:
    return service.create_template(call.user, call.body)


@endpoint(
    "/exams/templates/{template_id}",
    "PATCH",
    summary="Edit or retire a template",
    tags=TAGS,
    roles=EXAMINERS,
    body=TemplatePatch,
    response=TemplateStaffOut,
    errors=STAFF_ERRORS,
)
def update_template(call: Call) -> TemplateOut:
    return service.update_template(call.user, call.params["template_id"], call.body)


@endpoint(
    "/exams/templates/{template_id}",
    "DELETE",
    summary="Delete a template never sat",
    tags=TAGS,
    roles=EXAMINERS,
    status=204,
    errors=STAFF_ERRORS,
)
def delete_template(call: Call) -> None:
    service.delete_template(call.user, call.params["template_id"])


@endpoint(
    "/admin/users/{user_id}/accommodations",
    "PUT",
    summary="Grant extra exam time (audited)",
    tags=("admin",),
    roles=(Role.ADMIN,),
    body=AccommodationIn,
    response=AccommodationIn,
    errors=STAFF_ERRORS,
)
def set_accommodation(call: Call) -> AccommodationIn:
    percent = service.set_extra_time(call.user, call.params["user_id"], call.body.extra_time_percent)
    return AccommodationIn(extra_time_percent=percent)


@endpoint(
    "/exams/sessions",
    "POST",
    summary="Start a timed mock exam",
    tags=TAGS,
    body=StartIn,
    response=SessionOut,
    status=201,
    errors=(400, 401, 402, 403, 404, 409, 422, 429),
)
def start_session(call: Call) -> SessionOut:
    return service.start_session(call.user, call.body.template_id)


@endpoint(
    "/exams/sessions",
    "GET",
    summary="My mock exams, newest first",
    tags=TAGS,
    query=PageQuery,
    response=Page[HistoryItem],
    errors=(400, 401, 422),
)
def history(call: Call) -> Page[HistoryItem]:
    return service.history(call.user, call.query.limit, call.query.cursor)


@endpoint(
    "/exams/sessions/{session_id}",
    "GET",
    summary="Resume: questions, saved answers, time left",
    tags=TAGS,
    response=SessionOut,
    errors=(401, 404),
)
def get_session(call: Call) -> SessionOut:
    return service.get_session(call.user, call.params["session_id"])


@endpoint(
    "/exams/sessions/{session_id}/answers",
    "PUT",
    summary="Autosave one or more answers and flags",
    tags=TAGS,
    body=AnswersIn,
    response=SaveResult,
    errors=(400, 401, 404, 409, 422, 429),
)
def save_answers(call: Call) -> SaveResult:
    return service.save_answers(call.user, call.params["session_id"], call.body)


@endpoint(
    "/exams/sessions/{session_id}/attempts",
    "POST",
    summary="Answer one question ({question_id, selected_option_ids, time_spent_sec}) or several ({attempts: [...]})",
    tags=TAGS,
    body=ExamAttemptsIn,
    response=SaveResult,
    errors=(400, 401, 404, 409, 422, 429),
)
def submit_attempts(call: Call) -> SaveResult:
    return service.save_answers(call.user, call.params["session_id"], call.body.as_answers())


@endpoint(
    "/exams/sessions/{session_id}/submit",
    "POST",
    summary="Submit once and get the score",
    tags=TAGS,
    response=Result,
    errors=(401, 404, 409),
)
def submit(call: Call) -> Result:
    return service.submit(call.user, call.params["session_id"])


@endpoint(
    "/exams/sessions/{session_id}/review",
    "GET",
    summary="Answers, explanations and breakdown",
    tags=TAGS,
    response=Review,
    errors=(401, 404, 409),
    example_response=REVIEW_EXAMPLE,
)
def review(call: Call) -> Review:
    return service.review(call.user, call.params["session_id"])
