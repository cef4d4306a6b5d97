"""Exam items and their keys. See docs/data-model.md, patterns EX1-EX13.

A session is a small item in the learner's partition; its paper (what the learner sees, the answer
key, the explanations), its answer sheet and its result live in the session's own partition as a
few compressed items, so resume, autosave, submit and review never read the questions again."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from chalicelib.core.db import CompressedJSONAttribute, TableItem, partition_items, user_pk
from chalicelib.core.pagination import newest_first_page
from chalicelib.core.timeutil import parse

TEMPLATES_PK = "EXAMTPL"
TEMPLATE_PREFIX = "TPL#"
SESSION_PREFIX = "EXAM#"
LIVE_PREFIX = "EXAMLIVE#"
SHEET_SK = "SHEET"
RESULT_SK = "RESULT"
VIEW, KEY, NOTES = "VIEW", "KEY", "NOTES"  # KEY#, NOTES# and RESULT sort together: review reads them in one Query
PART_CHUNK_BYTES = 300_000  # compressed; an item may hold 400 KB


def template_sk(template_id: str) -> str:
    return TEMPLATE_PREFIX + template_id


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
    """The session as history lists it (~0.5 KB): everything per question is in its partition."""

    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    template_name = UnicodeAttribute()
    pass_mark_percent = NumberAttribute()
    question_count = NumberAttribute()
    parts = JSONAttribute()  # paper part -> how many chunks it was written in
    timezone = UnicodeAttribute(default="UTC")
    started_at = UnicodeAttribute()
    deadline_at = UnicodeAttribute()
    status = UnicodeAttribute()  # in_progress | submitted (mirrors the sheet, set in the same transaction)
    submitted_at = UnicodeAttribute(null=True)
    submitted_by = UnicodeAttribute(null=True)  # learner | deadline
    time_spent_sec = NumberAttribute(null=True)
    score_percent = NumberAttribute(null=True)
    correct = NumberAttribute(null=True)
    answered = NumberAttribute(null=True)
    passed = BooleanAttribute(null=True)


class ExamPart(TableItem, discriminator="ExamPart"):
    """One chunk of a paper part, written once at start (VIEW: what the learner sees; KEY: ids,
    categories, option orders and correct positions; NOTES: explanations), in paper order."""

    body = CompressedJSONAttribute()


class ExamSheet(TableItem, discriminator="ExamSheet"):
    """The hot part of a session: autosaves bump its version, the submission flips its status.
    Answers are keyed by paper position: `picks` the chosen option positions as digits, `times`
    the learner's total seconds on the question, `flags` the flagged ones (~2 KB for 180)."""

    status = UnicodeAttribute()  # in_progress | submitted
    version = NumberAttribute(default=0)
    deadline_at = UnicodeAttribute()
    picks = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    times = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]
    flags = MapAttribute[str, Any](default=dict)  # type: ignore[no-untyped-call]


class ExamResult(TableItem, discriminator="ExamResult"):
    """The scored sheet, written by the submission: per position [picks, right (0/1), seconds]."""

    marks = CompressedJSONAttribute()


def sheet_key(session_id: str) -> tuple[str, str]:
    return answers_pk(session_id), SHEET_SK


class LiveExam(TableItem, discriminator="LiveExam"):
    """A learner's exam in progress and its questions, in the learner's partition: practice reads
    these (one small Query) so it never reveals the answer to a question of a running exam.
    Written with the session, deleted by the submission; TTL removes a forgotten one."""

    session_id = UnicodeAttribute()
    question_ids = CompressedJSONAttribute()  # a list of ids: half the size to write and delete
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


def new_sheet(session_id: str, deadline_at: str) -> ExamSheet:
    pk, sk = sheet_key(session_id)
    return ExamSheet(PK=pk, SK=sk, status="in_progress", deadline_at=deadline_at)


def sheet_ref(session_id: str) -> ExamSheet:
    pk, sk = sheet_key(session_id)
    return ExamSheet(PK=pk, SK=sk)


def answer_actions(position: int, picks: str, time_spent_sec: int | None, flagged: bool | None) -> list[Action]:
    """One answer written onto the sheet; a time or flag left out keeps its saved value."""
    slot = str(position)
    actions: list[Action] = [ExamSheet.picks[slot].set(picks)]
    if time_spent_sec is not None:
        actions.append(ExamSheet.times[slot].set(time_spent_sec))
    if flagged is not None:
        actions.append(ExamSheet.flags[slot].set(True) if flagged else ExamSheet.flags[slot].remove())
    return actions


def part_items(session_id: str, kind: str, entries: list[Any]) -> list[ExamPart]:
    """A paper part as few chunks as fit an item each (one for any realistic paper)."""
    chunks = _chunks(entries)
    pk = answers_pk(session_id)
    return [ExamPart(PK=pk, SK=f"{kind}#{n:02d}", body=chunk) for n, chunk in enumerate(chunks)]


def _chunks(entries: list[Any]) -> list[list[Any]]:
    size = len(CompressedJSONAttribute().serialize(entries))
    if size <= PART_CHUNK_BYTES or len(entries) <= 1:
        return [entries]
    half = len(entries) // 2
    return _chunks(entries[:half]) + _chunks(entries[half:])


def read_parts(
    session_id: str, kinds: Iterable[str], chunks: dict[str, int], *, results: bool = False, consistent: bool = False
) -> Parts | None:
    """The named parts (and the result) of one session with one Query over their key range.
    Eventually consistent: they are written once; when one comes back short (a replica behind the
    write), read again consistently. None if they are still incomplete (an erased account)."""
    wanted = sorted(kinds)
    low = f"{wanted[0]}#"
    high = RESULT_SK if results else f"{wanted[-1]}#~"
    for strong in (True,) if consistent else (False, True):
        found = TableItem.query(answers_pk(session_id), TableItem.SK.between(low, high), consistent_read=strong)
        parts = _gather(found, wanted)
        if all(len(parts.chunks.get(k, [])) == int(chunks.get(k, 1)) for k in wanted) and (
            parts.result is not None or not results
        ):
            return parts
    return None


@dataclass
class Parts:
    chunks: dict[str, list[list[Any]]] = field(default_factory=dict)
    result: list[Any] | None = None

    def part(self, kind: str) -> list[Any]:
        return [entry for chunk in self.chunks[kind] for entry in chunk]


def _gather(found: Iterable[TableItem], wanted: list[str]) -> Parts:
    parts = Parts()
    for item in found:  # in key order, so chunks come in paper order
        if isinstance(item, ExamPart) and item.SK.split("#")[0] in wanted:
            parts.chunks.setdefault(item.SK.split("#")[0], []).append(item.body)
        elif isinstance(item, ExamResult):
            parts.result = item.marks
    return parts


def get_result(session_id: str) -> ExamResult | None:
    try:
        return ExamResult.get(answers_pk(session_id), RESULT_SK, consistent_read=True)
    except DoesNotExist:
        return None


def result_item(session_id: str, marks: list[Any]) -> ExamResult:
    return ExamResult(PK=answers_pk(session_id), SK=RESULT_SK, marks=marks)


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


SAT_PREFIX = "EXAMSAT#"


def sat_index(session: ExamSession, submitted_at: str) -> list[Any]:
    """The submission's actions that place the session among its template's sittings (GSI1: the
    re-marking of a corrected question finds them there)."""
    return [
        ExamSession.GSI1PK.set(SAT_PREFIX + session.template_id),
        ExamSession.GSI1SK.set(f"{submitted_at}#{session.session_id}"),
    ]


def sat_sessions(template_id: str) -> Iterator[ExamSession]:
    """Every submitted sitting of a template, oldest first (GSI1, paged)."""
    for item in ExamSession.gsi1.query(SAT_PREFIX + template_id):
        if isinstance(item, ExamSession):
            yield item


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
    """An eventually consistent miss is read again consistently: the session may be a moment old."""
    for strongly in sorted({consistent, True}):
        try:
            return ExamSession.get(*session_key(user_id, session_id), consistent_read=strongly)
        except DoesNotExist:
            continue
    return None


@dataclass(frozen=True)
class SavedAnswer:
    picks: str  # positions of the chosen options, one digit each
    time_spent_sec: int
    flagged: bool


def saved_answers(sheet: ExamSheet) -> dict[int, SavedAnswer]:
    """The sheet's answers by paper position (an answer always writes its picks, maybe empty)."""
    maps = (sheet.picks, sheet.times, sheet.flags)
    picks, times, flags = (m.as_dict() for m in maps)  # type: ignore[no-untyped-call]
    return {int(p): SavedAnswer(str(code), int(times.get(p, 0)), bool(flags.get(p))) for p, code in picks.items()}


def get_sheet(session_id: str) -> ExamSheet | None:
    try:
        return ExamSheet.get(*sheet_key(session_id), consistent_read=True)
    except DoesNotExist:
        return None


def session_partition(session_id: str) -> list[TableItem]:
    """A session's paper, sheet and result (for export and erasure)."""
    return partition_items(answers_pk(session_id))


def history(user_id: str, limit: int, cursor: str | None) -> tuple[list[ExamSession], str | None]:
    return newest_first_page(ExamSession, user_pk(user_id), SESSION_PREFIX, limit, cursor)


def all_sessions(user_id: str) -> list[ExamSession]:
    """Every exam session of a learner (paged Queries): for whole-history jobs, never a screen."""
    return list(ExamSession.query(user_pk(user_id), ExamSession.SK.startswith(SESSION_PREFIX), consistent_read=True))


def due(bucket: str, until_iso: str) -> list[ExamDue]:
    """Sessions of one deadline hour whose deadline is at or before `until_iso`."""
    return [m for m in ExamDue.query(bucket, until_iso + "~" >= ExamDue.SK) if isinstance(m, ExamDue)]
