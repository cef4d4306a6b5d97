"""Exam items and their keys. See docs/data-model.md, patterns EX1-EX11."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.db import TableItem, user_pk
from chalicelib.core.pagination import collect, decode_cursor

TEMPLATES_PK = "EXAMTPL"
SESSION_PREFIX = "EXAM#"


def answers_pk(session_id: str) -> str:
    return f"EXAM#{session_id}"


def due_bucket(deadline_iso: str) -> str:
    """Sessions are indexed by the hour their deadline falls in, so the expiry job Queries a few hours."""
    return f"EXAMDUE#{deadline_iso[:13]}"


class ExamTemplate(TableItem, discriminator="ExamTemplate"):
    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    paper = UnicodeAttribute()
    duration_minutes = NumberAttribute()
    total_questions = NumberAttribute()
    description = UnicodeAttribute(default="")
    pass_mark_percent = NumberAttribute()
    question_ids = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    blueprint = JSONAttribute(null=True)  # category slug -> number of questions
    shuffle_questions = BooleanAttribute(default=True)
    shuffle_options = BooleanAttribute(default=False)
    status = UnicodeAttribute(default="active")  # active | retired
    session_count = NumberAttribute(default=0)
    version = VersionAttribute()


class ExamSession(TableItem, discriminator="ExamSession"):
    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    template_name = UnicodeAttribute()
    pass_mark_percent = NumberAttribute()
    question_ids = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    option_orders = JSONAttribute()  # question id -> option ids in the order this learner sees them
    categories = JSONAttribute()  # question id -> [category, subcategory]
    timezone = UnicodeAttribute(default="UTC")
    started_at = UnicodeAttribute()
    deadline_at = UnicodeAttribute()
    status = UnicodeAttribute()  # in_progress | submitted (mirrors ExamState, set in the same transaction)
    submitted_at = UnicodeAttribute(null=True)
    submitted_by = UnicodeAttribute(null=True)  # learner | deadline
    time_spent_sec = NumberAttribute(null=True)
    score_percent = NumberAttribute(null=True)
    correct = NumberAttribute(null=True)
    answered = NumberAttribute(null=True)
    passed = BooleanAttribute(null=True)
    results = JSONAttribute(null=True)  # per question: selected, correct ids, is_correct (for review and analytics)


class ExamState(TableItem, discriminator="ExamState"):
    """The small, hot part of a session: autosaves bump its version, submission flips its status.
    Kept apart from the session item (tens of KB for 180 questions) so each autosave costs little."""

    status = UnicodeAttribute()  # in_progress | submitted
    answers_version = NumberAttribute(default=0)
    deadline_at = UnicodeAttribute()


def state_key(session_id: str) -> tuple[str, str]:
    return answers_pk(session_id), "STATE"


class ExamAnswer(TableItem, discriminator="ExamAnswer"):
    question_id = UnicodeAttribute()
    selected_option_ids = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    flagged = BooleanAttribute(default=False)
    saved_at = UnicodeAttribute()


def templates() -> list[ExamTemplate]:
    return [t for t in ExamTemplate.query(TEMPLATES_PK) if isinstance(t, ExamTemplate)]


def get_template(template_id: str) -> ExamTemplate | None:
    try:
        return ExamTemplate.get(TEMPLATES_PK, f"TPL#{template_id}", consistent_read=True)
    except DoesNotExist:
        return None


def session_key(user_id: str, session_id: str) -> tuple[str, str]:
    return user_pk(user_id), SESSION_PREFIX + session_id


def get_session(user_id: str, session_id: str, *, consistent: bool = True) -> ExamSession | None:
    try:
        return ExamSession.get(*session_key(user_id, session_id), consistent_read=consistent)
    except DoesNotExist:
        return None


def answers(session_id: str) -> dict[str, ExamAnswer]:
    found = ExamAnswer.query(answers_pk(session_id), ExamAnswer.SK.startswith("Q#"), consistent_read=True)
    return {a.question_id: a for a in found}


def get_state(session_id: str) -> ExamState | None:
    try:
        return ExamState.get(*state_key(session_id), consistent_read=True)
    except DoesNotExist:
        return None


def history(user_id: str, limit: int, cursor: str | None) -> tuple[list[ExamSession], str | None]:
    scope = f"exam-history:{user_id}"
    results = ExamSession.query(
        user_pk(user_id),
        ExamSession.SK.startswith(SESSION_PREFIX),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    )
    return collect(results, scope)


def due(bucket: str, until_iso: str) -> list[ExamSession]:
    found = ExamSession.gsi2.query(bucket, until_iso + "~" >= ExamSession.GSI2SK)
    return [s for s in found if isinstance(s, ExamSession)]
