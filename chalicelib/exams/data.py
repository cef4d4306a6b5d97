"""Exam items and their keys. See docs/data-model.md, patterns EX1-EX11."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.db import TableItem, partition_items, user_pk
from chalicelib.core.pagination import newest_first_page
from chalicelib.core.timeutil import parse

TEMPLATES_PK = "EXAMTPL"
TEMPLATE_PREFIX = "TPL#"
SESSION_PREFIX = "EXAM#"
LIVE_PREFIX = "EXAMLIVE#"
ANSWER_PREFIX = "Q#"
STATE_SK = "STATE"


def template_sk(template_id: str) -> str:
    return TEMPLATE_PREFIX + template_id


def answer_sk(question_id: str) -> str:
    return ANSWER_PREFIX + question_id


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
    return answers_pk(session_id), STATE_SK


class ExamAnswer(TableItem, discriminator="ExamAnswer"):
    question_id = UnicodeAttribute()
    selected_option_ids = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    flagged = BooleanAttribute(default=False)
    time_spent_sec = NumberAttribute(default=0)  # the learner's total time on this question so far
    saved_at = UnicodeAttribute()


class LiveExam(TableItem, discriminator="LiveExam"):
    """A learner's exam in progress and its questions, in the learner's partition: practice reads
    these (one small Query) so it never reveals the answer to a question of a running exam.
    Written with the session, deleted by the submission; TTL removes a forgotten one."""

    session_id = UnicodeAttribute()
    question_ids = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    accepts_until = UnicodeAttribute()  # the deadline plus the grace period


def new_template(template_id: str, **fields: Any) -> ExamTemplate:
    return ExamTemplate(PK=TEMPLATES_PK, SK=template_sk(template_id), template_id=template_id, **fields)


def new_session(user_id: str, session_id: str, **fields: Any) -> ExamSession:
    pk, sk = session_key(user_id, session_id)
    return ExamSession(PK=pk, SK=sk, session_id=session_id, user_id=user_id, **fields)


class ExamDue(TableItem, discriminator="ExamDue"):
    """A session in progress, filed under the hour its deadline falls in: the expiry job Queries a
    few of these small partitions (no index copies the large session item)."""

    user_id = UnicodeAttribute()
    session_id = UnicodeAttribute()


def due_marker(user_id: str, session_id: str, deadline_at: str) -> ExamDue:
    """Written when a session starts, deleted in its submission's transaction."""
    expires_at = int(parse(deadline_at).timestamp()) + 2 * 86400  # gone even if the account is erased mid-exam
    return ExamDue(
        PK=due_bucket(deadline_at),
        SK=f"{deadline_at}#{session_id}",
        user_id=user_id,
        session_id=session_id,
        expires_at=expires_at,
    )


def new_state(session_id: str, deadline_at: str) -> ExamState:
    pk, sk = state_key(session_id)
    return ExamState(PK=pk, SK=sk, status="in_progress", deadline_at=deadline_at)


def state_ref(session_id: str) -> ExamState:
    pk, sk = state_key(session_id)
    return ExamState(PK=pk, SK=sk)


def answer_ref(session_id: str, question_id: str) -> ExamAnswer:
    return ExamAnswer(PK=answers_pk(session_id), SK=answer_sk(question_id))


def live_exam(user_id: str, session_id: str, question_ids: list[str], accepts_until: str, expires_at: int) -> LiveExam:
    return LiveExam(
        PK=user_pk(user_id),
        SK=LIVE_PREFIX + session_id,
        session_id=session_id,
        question_ids=question_ids,
        accepts_until=accepts_until,
        expires_at=expires_at,
    )


def live_exam_ref(user_id: str, session_id: str) -> LiveExam:
    return LiveExam(PK=user_pk(user_id), SK=LIVE_PREFIX + session_id)


def questions_in_live_exams(user_id: str, now_iso: str) -> set[str]:
    """The questions of the learner's exams that still accept answers: one Query, a few items."""
    found = LiveExam.query(user_pk(user_id), LiveExam.SK.startswith(LIVE_PREFIX), consistent_read=True)
    return {qid for live in found if live.accepts_until >= now_iso for qid in live.question_ids}


def templates() -> list[ExamTemplate]:
    return [t for t in ExamTemplate.query(TEMPLATES_PK) if isinstance(t, ExamTemplate)]


def get_template(template_id: str) -> ExamTemplate | None:
    try:
        return ExamTemplate.get(TEMPLATES_PK, template_sk(template_id), consistent_read=True)
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
    found = ExamAnswer.query(answers_pk(session_id), ExamAnswer.SK.startswith(ANSWER_PREFIX), consistent_read=True)
    return {a.question_id: a for a in found}


def session_partition(session_id: str) -> list[TableItem]:
    """A session's answers and its state item (for export and erasure)."""
    return partition_items(answers_pk(session_id))


def get_state(session_id: str) -> ExamState | None:
    try:
        return ExamState.get(*state_key(session_id), consistent_read=True)
    except DoesNotExist:
        return None


def history(user_id: str, limit: int, cursor: str | None) -> tuple[list[ExamSession], str | None]:
    return newest_first_page(ExamSession, user_pk(user_id), SESSION_PREFIX, limit, cursor)


def all_sessions(user_id: str) -> list[ExamSession]:
    """Every exam session of a learner (paged Queries): for whole-history jobs, never a screen."""
    return list(ExamSession.query(user_pk(user_id), ExamSession.SK.startswith(SESSION_PREFIX), consistent_read=True))


def due(bucket: str, until_iso: str) -> list[ExamDue]:
    """Sessions of one deadline hour whose deadline is at or before `until_iso`."""
    return [m for m in ExamDue.query(bucket, until_iso + "~" >= ExamDue.SK) if isinstance(m, ExamDue)]
