"""Practice items and their keys. See docs/data-model.md, patterns PR1-PR8."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core.db import TableItem, cancelled_positions, is_condition_failure, transaction, user_pk
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
    # The newest answer, written with the count in the same transaction: the stream record of this
    # item is what the analytics pipeline consumes (records of one item arrive in order).
    last_answer = JSONAttribute(null=True)


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
    seq = NumberAttribute(null=True)  # 1 for the session's first answer, 2 for the next...
    confidence = UnicodeAttribute(null=True)  # guess | unsure | sure, when the learner said
    # Everyone's median time on the question when it was answered: the review rating compares the
    # learner's time with it (fixed here, so replaying the answer always rates it the same).
    median_sec = NumberAttribute(null=True)

    def event(self) -> dict[str, Any]:
        """What the pipeline needs of this answer (also stored as the session's `last_answer`)."""
        return {
            "seq": int(self.seq or 0),
            "question_id": self.question_id,
            "category": self.category,
            "subcategory": self.subcategory,
            "is_correct": bool(self.is_correct),
            "time_spent_sec": int(self.time_spent_sec),
            "answered_at": self.answered_at,
            "local_date": self.local_date,
            "selected_option_ids": list(self.selected_option_ids),
            **({"confidence": self.confidence} if self.confidence else {}),
            **({"median_sec": int(self.median_sec)} if self.median_sec else {}),
        }


class QuestionState(TableItem, discriminator="QuestionState"):
    """A question the learner flagged (the pool `flagged`). What they answered, and how it went
    last, is on their review card (review.data), kept by the answer pipeline."""

    question_id = UnicodeAttribute()
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


class Recorded(Enum):
    OK = "ok"
    DUPLICATE = "duplicate"  # this question was already answered in the session
    CLOSED = "closed"  # the session is no longer active
    MOVED = "moved"  # another answer landed since the session was read: read it again


def record_answer(session: PracticeSession, answer: PracticeAnswer) -> Recorded:
    """The answer, the session's progress and its `last_answer` land together or not at all. The
    answer takes the next sequence number after the count read with the session; the write is
    conditional on that count, so of two racing answers one gets MOVED and must read again."""
    answered = int(session.answered or 0)
    answer.seq = answered + 1
    try:
        with transaction() as tx:
            tx.save(answer, condition=PracticeAnswer.PK.does_not_exist())
            tx.update(
                session,
                actions=[
                    PracticeSession.answered.set(answered + 1),
                    PracticeSession.correct.add(int(answer.is_correct)),
                    PracticeSession.time_spent_sec.add(int(answer.time_spent_sec)),
                    PracticeSession.last_answer.set(answer.event()),
                ],
                condition=(PracticeSession.status == "active") & (PracticeSession.answered == answered),
            )
    except TransactWriteError as exc:
        positions = cancelled_positions(exc) if is_condition_failure(exc) else []
        if 0 in positions:
            return Recorded.DUPLICATE
        if 1 in positions:
            current = get_session(session.user_id, session.session_id)
            return Recorded.CLOSED if current is None or current.status != "active" else Recorded.MOVED
        raise
    return Recorded.OK


def get_session(user_id: str, session_id: str) -> PracticeSession | None:
    try:
        return PracticeSession.get(*session_key(user_id, session_id), consistent_read=True)
    except DoesNotExist:
        return None


def answers(session_id: str) -> list[PracticeAnswer]:
    return list(PracticeAnswer.query(answers_pk(session_id), consistent_read=True))


def all_sessions(user_id: str) -> list[PracticeSession]:
    """Every practice session of a learner (paged Queries): for whole-history jobs, never a screen."""
    return list(PracticeSession.query(user_pk(user_id), PracticeSession.SK.startswith(SESSION_PREFIX)))


def question_states(user_id: str, *, consistent: bool = False) -> list[QuestionState]:
    condition = QuestionState.SK.startswith(QSTATE_PREFIX)
    return list(QuestionState.query(user_pk(user_id), condition, consistent_read=consistent))


def history(user_id: str, limit: int, cursor: str | None) -> tuple[list[PracticeSession], str | None]:
    return newest_first_page(PracticeSession, user_pk(user_id), SESSION_PREFIX, limit, cursor)
