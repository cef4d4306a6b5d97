"""Practice items and their keys. See docs/data-model.md, patterns PR1-PR8."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.db import TableItem, user_pk
from chalicelib.core.pagination import newest_first_page

SESSION_PREFIX = "PRACTICE#"
QSTATE_PREFIX = "QSTATE#"
ANSWER_PREFIX = "Q#"


def answers_pk(session_id: str) -> str:
    return f"PRACTICE#{session_id}"


def answer_sk(question_id: str) -> str:
    return ANSWER_PREFIX + question_id


class PracticeSession(TableItem, discriminator="PracticeSession"):
    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    categories = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    subcategories = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    pool = UnicodeAttribute()
    requested = NumberAttribute()
    question_ids = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    include_explanations = BooleanAttribute()
    seed = NumberAttribute()
    timezone = UnicodeAttribute(default="UTC")
    status = UnicodeAttribute()  # active | completed
    answered = NumberAttribute(default=0)
    correct = NumberAttribute(default=0)
    time_spent_sec = NumberAttribute(default=0)
    started_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)
    category_names = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]


class PracticeAnswer(TableItem, discriminator="PracticeAnswer"):
    """One answered question: written once, the event the analytics pipeline consumes."""

    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    question_id = UnicodeAttribute()
    question_version = NumberAttribute()
    category = UnicodeAttribute()
    subcategory = UnicodeAttribute(null=True)
    selected_option_ids = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    correct_option_ids = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    is_correct = BooleanAttribute()
    time_spent_sec = NumberAttribute()
    answered_at = UnicodeAttribute()
    local_date = UnicodeAttribute()  # the learner's calendar day (profile time zone)


class QuestionState(TableItem, discriminator="QuestionState"):
    """A learner's relation to one question: answered, last result, flagged (drives the pools)."""

    question_id = UnicodeAttribute()
    answered = NumberAttribute(default=0)
    last_correct = BooleanAttribute(null=True)
    last_answered_at = UnicodeAttribute(null=True)
    flagged = BooleanAttribute(default=False)


def session_key(user_id: str, session_id: str) -> tuple[str, str]:
    return user_pk(user_id), SESSION_PREFIX + session_id


def new_session(user_id: str, session_id: str, **fields: Any) -> PracticeSession:
    pk, sk = session_key(user_id, session_id)
    return PracticeSession(PK=pk, SK=sk, session_id=session_id, user_id=user_id, **fields)


def new_answer(session_id: str, question_id: str, **fields: Any) -> PracticeAnswer:
    return PracticeAnswer(
        PK=answers_pk(session_id), SK=answer_sk(question_id), session_id=session_id, question_id=question_id, **fields
    )


def question_state_ref(user_id: str, question_id: str) -> QuestionState:
    """A keys-only handle for updates of a learner's state for one question."""
    return QuestionState(PK=user_pk(user_id), SK=QSTATE_PREFIX + question_id)


def get_session(user_id: str, session_id: str) -> PracticeSession | None:
    try:
        return PracticeSession.get(*session_key(user_id, session_id), consistent_read=True)
    except DoesNotExist:
        return None


def answers(session_id: str) -> list[PracticeAnswer]:
    return list(PracticeAnswer.query(answers_pk(session_id), consistent_read=True))


def question_states(user_id: str) -> list[QuestionState]:
    return list(QuestionState.query(user_pk(user_id), QuestionState.SK.startswith(QSTATE_PREFIX)))


def history(user_id: str, limit: int, cursor: str | None) -> tuple[list[PracticeSession], str | None]:
    return newest_first_page(PracticeSession, user_pk(user_id), SESSION_PREFIX, limit, cursor)
