"""Re-marking past exams when an editor changes a published question's correct options.

The table stream sees the question's change (its correct option ids differ between the old and the
new image) and queues a task; the task walks the sittings of every template that could hold the
question (fixed papers listing it, blueprints drawing from its category: `EXAMSAT#<template>` on
GSI1, written at submission) and re-marks each sitting that holds it, in one transaction per sitting:

- a claim per (sitting, question, key version): running again, or the task arriving twice, changes
  nothing; an interrupted run is resumed by running it again (`make remark` or the next delivery);
- the paper's key and result, the session's score and pass/fail;
- the learner's category and subcategory aggregates and the exam day's stats, by exactly the
  difference (+1 or -1 correct per question whose mark moved), only once the pipeline has counted
  that sitting (a condition on its chunk claim: a sitting still in the stream is left for the next
  run, and the pipeline counts it with the new key);
- the cohort's statistics of the question and the template's score distribution;
- the learner's notification.

Afterwards the learner's dashboard is rebuilt and the last-exam summary follows a changed score;
the run is audited with what it changed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.analytics import data as analytics
from chalicelib.analytics import pipeline, snapshot
from chalicelib.analytics.data import AppliedRecord, CategoryAggregate, DailyStat
from chalicelib.audit.data import Change, event_for
from chalicelib.cohort import data as cohort
from chalicelib.cohort import service as cohort_service
from chalicelib.cohort.rules import rest_score
from chalicelib.core import clock
from chalicelib.core.db import cancelled_positions, is_condition_failure, transaction
from chalicelib.core.observability import logger
from chalicelib.core.streams import FollowUp, StreamChange, consumes
from chalicelib.core.tasks import enqueue, task
from chalicelib.core.timeutil import local_date
from chalicelib.exams import data as exams
from chalicelib.exams import rules as exam_rules
from chalicelib.exams.data import ExamSession
from chalicelib.notifications import service as notifications
from chalicelib.questions import data as questions
from chalicelib.remarking import data, rules
from chalicelib.remarking.data import RemarkClaim

REMARK_TASK = "exams.remark"
MAX_RUNS = 5  # a run that left sittings still in the stream queues the next, this many times


@dataclass
class Outcome:
    sittings: int = 0  # sittings of the templates looked at
    remarked: int = 0
    scores_changed: int = 0
    already: int = 0  # re-marked by an earlier run
    pending: int = 0  # not counted by the pipeline yet: left for the next run
    skipped: int = 0  # the new key names an option the paper never showed
    learners: set[str] = field(default_factory=set)
    papers: dict[str, list[str]] = field(default_factory=dict)  # re-marked sittings -> their questions

    def as_dict(self) -> dict[str, int]:
        return {
            "sittings": self.sittings,
            "remarked": self.remarked,
            "scores_changed": self.scores_changed,
            "already": self.already,
            "pending": self.pending,
            "skipped": self.skipped,
        }


# --- the trigger ---------------------------------------------------------------------------------


def _correct_ids(image: dict[str, Any] | None) -> list[str]:
    return sorted(str(o["id"]) for o in (image or {}).get("options") or [] if o.get("is_correct"))


@consumes("Question")
def on_question_change(change: StreamChange) -> list[FollowUp]:
    """A question whose correct options changed (not a new one: nobody has sat it) queues a re-mark."""
    new, old = change.new, change.old
    if not new or not old or _correct_ids(new) == _correct_ids(old):
        return []
    payload = {"question_id": str(new["question_id"]), "version": int(new.get("version") or 1), "run": 1}
    return [FollowUp(f"remark:{payload['question_id']}:{payload['version']}", lambda: enqueue(REMARK_TASK, payload))]


@task(REMARK_TASK)
def remark_task(payload: dict[str, Any]) -> None:
    run = int(payload.get("run") or 1)
    outcome = remark_question(str(payload["question_id"]), int(payload["version"]))
    if outcome.pending and run < MAX_RUNS:
        enqueue(REMARK_TASK, {**payload, "run": run + 1})


# --- the run ---------------------------------------------------------------------------------------


def remark_question(question_id: str, version: int) -> Outcome:
    """Every sitting holding the question, marked against its key as of `version` (a later change of
    the key runs again with its own version, so the newest key wins whatever the order of runs)."""
    question = questions.get_question(question_id)
    outcome = Outcome()
    if question is None or int(question.version or 1) != version:
        return outcome  # deleted, or changed again since: the newer version's run re-marks
    correct_ids = [o.id for o in question.options if o.is_correct]
    for template in exams.templates():
        if question_id in (template.question_ids or []) or question.category in dict(template.blueprint or {}):
            for session in _sittings(template.template_id):
                outcome.sittings += 1
                _remark_sitting(session, question_id, version, correct_ids, outcome)
    for user_id in sorted(outcome.learners):
        snapshot.rebuild(user_id)
    as_of = clock.iso(clock.now())
    for session_id, paper in sorted(outcome.papers.items()):  # their reviews show the statistics moved
        cohort_service.keep_paper_stats(session_id, paper, as_of)
    after = {"version": version, "correct_option_ids": correct_ids, **outcome.as_dict()}
    event_for(Change("system", "question.remarked", "question", question_id, after=after)).save()
    cohort.record_remark(question_id, {**after, "at": clock.iso(clock.now())})
    logger.info("question re-marked", extra={"question_id": question_id, **outcome.as_dict()})
    return outcome


def _sittings(template_id: str) -> Iterator[ExamSession]:
    return exams.sat_sessions(template_id)


def _paper(session: ExamSession) -> tuple[list[exam_rules.KeyEntry], list[exam_rules.Mark]] | None:
    """A sitting's key and marks (None for an erased account), read consistently: an earlier
    re-marking's write must be seen before this one computes its difference."""
    parts = exams.read_parts(session.session_id, [exams.KEY], dict(session.parts), results=True, consistent=True)
    if parts is None:
        return None
    key = [exam_rules.KeyEntry.from_json(raw) for raw in parts.part(exams.KEY)]
    return key, [exam_rules.Mark.from_json(raw) for raw in parts.result or []]


def _remark_sitting(listed: ExamSession, question_id: str, version: int, correct: list[str], outcome: Outcome) -> None:
    session = exams.get_session(listed.user_id, listed.session_id)  # consistent: the index may lag
    if session is None:
        return
    paper = _paper(session)
    if paper is None:
        return
    key, marks = paper
    try:
        remark = rules.remark(key, marks, question_id, correct)
    except rules.OptionsNotInPaper:
        outcome.skipped += 1
        return
    if remark is None:
        return
    before = float(session.score_percent or 0)
    try:
        _commit(session, question_id, version, key, marks, remark)
    except _Already:
        outcome.already += 1
        outcome.papers[session.session_id] = [entry.question_id for entry in key]  # again: a crash may have
        return  # come between the re-marking and the refresh
    except _NotCounted:
        outcome.pending += 1
        return
    outcome.remarked += 1
    outcome.papers[session.session_id] = [entry.question_id for entry in key]
    outcome.learners.add(session.user_id)
    if remark.score_percent != before:
        outcome.scores_changed += 1
        analytics.rescore_last_exam(session.user_id, session.session_id, remark.score_percent)


class _Already(Exception):
    pass


class _NotCounted(Exception):
    pass


def _commit(
    session: ExamSession,
    question_id: str,
    version: int,
    key: list[exam_rules.KeyEntry],
    marks: list[exam_rules.Mark],
    remark: rules.Remark,
) -> None:
    now = clock.iso_ms(clock.now())
    chunk = _counted_chunk(session, key, marks, question_id)
    try:
        _write(session, question_id, version, remark, chunk, key, marks, now)
    except TransactWriteError as exc:
        failed = cancelled_positions(exc) if is_condition_failure(exc) else []
        # pynamodb sends condition checks first, then puts: the chunk's check is 0, the claim next
        claim_position = 0 if chunk is None else 1
        if claim_position in failed:
            raise _Already from exc
        if chunk is not None and 0 in failed:
            raise _NotCounted from exc
        raise


def _write(
    session: ExamSession,
    question_id: str,
    version: int,
    remark: rules.Remark,
    chunk: AppliedRecord | None,
    key: list[exam_rules.KeyEntry],
    marks: list[exam_rules.Mark],
    now: str,
) -> None:
    user_id, session_id = session.user_id, session.session_id
    before, after = float(session.score_percent or 0), remark.score_percent
    passed = remark.passed(float(session.pass_mark_percent))
    with transaction() as tx:
        tx.save(
            data.claim(user_id, session_id, question_id, version, before, after),
            condition=RemarkClaim.PK.does_not_exist(),
        )
        if chunk is not None:  # its answer was counted by the pipeline: move the counts by the difference
            tx.condition_check(AppliedRecord, chunk.PK, chunk.SK, condition=AppliedRecord.PK.exists())
        for part in exams.part_items(session_id, exams.KEY, [entry.as_json() for entry in remark.key]):
            tx.save(part)
        tx.save(exams.result_item(session_id, [mark.as_json() for mark in remark.marks]))
        tx.update(
            session,
            actions=[
                ExamSession.score_percent.set(after),
                ExamSession.correct.set(remark.correct),
                ExamSession.passed.set(passed),
            ],
            # the score it moves from is the one this run read (a concurrent run for another key
            # version makes this one fail, and the task runs again)
            condition=(ExamSession.status == "submitted") & (ExamSession.score_percent == before),
        )
        if chunk is not None:
            _move_counts(tx, session, key, marks, remark)
        title = f"Your exam {session.template_name} was re-marked"
        body = (
            f"A question's answer key was corrected. Your score went from {before:g}% to {after:g}%"
            f" ({'pass' if passed else 'fail'})."
            if after != before
            else "A question's answer key was corrected; your score is unchanged."
        )
        link = f"/exams/sessions/{session_id}/review"
        notifications.add_personal(tx, user_id, clock.new_id(), "exam_remarked", title, body, link, now)


def _counted_chunk(
    session: ExamSession, key: list[exam_rules.KeyEntry], marks: list[exam_rules.Mark], question_id: str
) -> AppliedRecord | None:
    """The pipeline's claim of the chunk holding this question's answer (None when unanswered: no
    count holds it)."""
    fields = {**session.attribute_values, "parts": dict(session.parts)}
    work = pipeline.ExamWork(
        pipeline.exam_events(fields, exam_rules.outcomes(key, marks)),
        session.template_id,
        float(session.score_percent or 0),
    )
    for index, chunk in enumerate(work.chunks()):
        if any(answer.question_id == question_id for answer in chunk.answers):
            return analytics.exam_chunk_claim(session.user_id, session.session_id, index)
    return None


def _move_counts(
    tx: Any, session: ExamSession, key: list[exam_rules.KeyEntry], marks: list[exam_rules.Mark], remark: rules.Remark
) -> None:
    user_id = session.user_id
    day = local_date(str(session.submitted_at), str(session.timezone or "UTC")).isoformat()
    paper_correct = sum(m.is_correct for m in marks)
    for change in remark.changes:
        entry, delta = key[change.position], (1 if change.now_correct else -1)
        for sub in [None, entry.subcategory] if entry.subcategory else [None]:
            tx.update(
                analytics.aggregate_ref(user_id, entry.category, sub), actions=[CategoryAggregate.correct.add(delta)]
            )
        tx.update(analytics.day_ref(user_id, day), actions=[DailyStat.correct.add(delta)])
        rest = rest_score(paper_correct, len(key), marks[change.position].is_correct)
        stat, actions = cohort.correct_moved(entry.question_id, delta, rest)
        tx.update(stat, actions=actions)
    before, after = float(session.score_percent or 0), remark.score_percent
    template, moves = cohort.template_score_moved(session.template_id, before, after)
    if moves:
        tx.update(template, actions=moves)
