"""Stream consumers that turn answers into aggregates, daily stats, review cards and each
learner's dashboard. The design and the guarantees it relies on are in docs/data-model.md
("The answer pipeline").

Practice: an answer's transaction also writes it onto its session item as `last_answer`, with the
session's answer count as its sequence number. Records of one item arrive in order, so a session's
records carry its answers 1, 2, 3... A per-session watermark (the newest sequence applied) moves
forward only from the value read, in the same transaction as the answers above it: a redelivered,
duplicated or reordered record changes nothing, and a sequence number missing from the batch (a
record lost after its retries ran out) is read back from the session's answer items.

Exams: a session's flip to submitted triggers; its result and answer key (written by then, never
changed) give its answers, applied in deterministic chunks, each with a claim written in the same
transaction.

All of one learner's answers in a batch are folded (`effects`) into one update per item touched,
so a batch costs one write per aggregate and day rather than several per answer. The answers then
join their questions' review cards (review.service): set operations, idempotent by themselves, so
they need no place in the exactly-once transaction, and are redone on every redelivery."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.accounts import data as accounts
from chalicelib.analytics import data, snapshot
from chalicelib.analytics.data import AppliedRecord, CategoryAggregate, DailyStat, PracticeWatermark
from chalicelib.analytics.effects import (
    AnswerEvent,
    Chunk,
    Effects,
    chunked,
    exam_order,
    exam_source,
    mark_first_answers,
    pending,
    practice_source,
    review_entry,
    time_shares,
)
from chalicelib.cohort import data as cohort
from chalicelib.cohort import service as cohort_service
from chalicelib.cohort.rules import Contribution, by_ledger, rest_score
from chalicelib.core import clock
from chalicelib.core.db import TableItem, cancelled_positions, is_condition_failure, transaction, typed
from chalicelib.core.observability import logger
from chalicelib.core.streams import FollowUp, StreamChange, batch_shared, consumes
from chalicelib.core.timeutil import local_date
from chalicelib.exams import service as exams
from chalicelib.exams.rules import QuestionOutcome
from chalicelib.practice import data as practice
from chalicelib.questions.rules import score_percent
from chalicelib.review import service as review

ACTIVE_MARKER_TTL_SEC = 35 * 86400
APPLY_ATTEMPTS = 5


class StaleWatermark(Exception):
    """Another delivery advanced a session's watermark first: read it again and redo the plan."""


# --- what a batch brings, per learner ------------------------------------------------------------


@dataclass(frozen=True)
class ExamWork:
    """A submitted exam's answers, and what its sitting adds to its template's score distribution."""

    events: list[AnswerEvent]
    template_id: str
    score_percent: float
    paper: tuple[str, ...] = ()  # every question of the paper, answered or not

    def chunks(self) -> list[Chunk]:
        """Deterministic: a redelivery claims the same chunks. Each holds its claim and its ledger
        entry (a paper's statistics always go through the cohort's ledger, which also keeps the
        sitting's review statistics): usually one chunk for a whole paper."""
        return chunked(self.events, fixed_items=2, questions=False)

    def ledger(self, user_id: str, session_id: str, index: int, chunk: Chunk) -> cohort.LedgerEntry:
        """The chunk's ledger entry; the first also carries the sitting (score, paper)."""
        contributions = _contributions(chunk.answers)
        if index:
            return cohort.ledger_entry(user_id, f"exam:{session_id}:{index}", contributions)
        return cohort.ledger_entry(
            user_id,
            f"exam:{session_id}:{index}",
            contributions,
            template_id=self.template_id,
            score_percent=self.score_percent,
            sitting=session_id,
            paper=self.paper,
        )


def _contributions(answers: list[AnswerEvent]) -> list[Contribution]:
    return [
        Contribution(
            a.question_id,
            a.is_correct,
            a.selected,
            a.time_spent_sec if a.answer_seconds is None else a.answer_seconds,
            a.rest_score,
        )
        for a in answers
    ]


@dataclass
class LearnerWork:
    practice: dict[str, dict[int, AnswerEvent]] = field(default_factory=lambda: defaultdict(dict))
    exams: dict[str, ExamWork] = field(default_factory=dict)

    def events(self) -> list[AnswerEvent]:
        return [a for answers in self.practice.values() for a in answers.values()] + [
            a for exam in self.exams.values() for a in exam.events
        ]


def practice_event(user_id: str, session_id: str, raw: dict[str, Any]) -> tuple[int, AnswerEvent]:
    """A practice answer (from a session's `last_answer` or an answer item) as a pipeline event."""
    seq = int(raw["seq"])
    if seq < 1:
        raise ValueError(f"answer of session {session_id} has no sequence number")
    return seq, AnswerEvent(
        source=practice_source(session_id, seq),
        user_id=user_id,
        question_id=str(raw["question_id"]),
        category=str(raw["category"]),
        subcategory=raw.get("subcategory") or None,
        is_correct=bool(raw["is_correct"]),
        time_spent_sec=int(raw["time_spent_sec"]),
        answered_at=str(raw["answered_at"]),
        local_date=str(raw["local_date"]),
        confidence=raw.get("confidence") or None,
        median_sec=int(raw["median_sec"]) if raw.get("median_sec") else None,
        selected=tuple(str(o) for o in raw.get("selected_option_ids") or ()),
    )


def exam_events(fields: dict[str, Any], outcomes: list[QuestionOutcome]) -> list[AnswerEvent]:
    """Every answered question of a submitted exam (its session's fields and its questions'
    outcomes), built whole before anything is written. Its time is attributed without loss."""
    user_id, session_id = str(fields["user_id"]), str(fields["session_id"])
    submitted_at = str(fields["submitted_at"])
    day = local_date(submitted_at, str(fields.get("timezone") or "UTC")).isoformat()
    paper_correct = sum(outcome.is_correct for outcome in outcomes)
    events = [
        AnswerEvent(
            source=exam_source(session_id, outcome.question_id),
            user_id=user_id,
            question_id=outcome.question_id,
            category=outcome.category,
            subcategory=outcome.subcategory,
            is_correct=outcome.is_correct,
            time_spent_sec=outcome.time_spent_sec,
            answered_at=submitted_at,
            local_date=day,
            selected=outcome.selected,
            rest_score=rest_score(paper_correct, len(outcomes), outcome.is_correct),
            answer_seconds=outcome.time_spent_sec,
        )
        for outcome in outcomes
        if outcome.answered
    ]
    ordered = exam_order(events)
    shares = time_shares(int(fields.get("time_spent_sec") or 0), [e.time_spent_sec for e in ordered])
    return [replace(event, time_spent_sec=share) for event, share in zip(ordered, shares, strict=True)]


def submitted_exam(fields: dict[str, Any]) -> ExamWork | None:
    """A submitted exam's events from its result and answer key; None for an erased account."""
    outcomes = exams.submitted_outcomes(str(fields["session_id"]), _json(fields["parts"]))
    if outcomes is None:
        return None
    score = float(fields.get("score_percent") or 0)
    paper = tuple(outcome.question_id for outcome in outcomes)
    return ExamWork(exam_events(fields, outcomes), str(fields["template_id"]), score, paper)


def _json(value: Any) -> Any:
    """JSON attributes arrive in stream images as strings."""
    return json.loads(value) if isinstance(value, str) else value


# --- applying ------------------------------------------------------------------------------------


@dataclass
class _Update:
    item: TableItem
    actions: list[Action]
    newest: list[Action] = field(default_factory=list)  # applied only if newer than what is stored
    newer: Condition | None = None


def _updates(effects: Effects, user_id: str, *, statistics: bool) -> list[_Update]:
    """One update per item the effects touch; `statistics`: the questions' too (else they go
    through the cohort's ledger)."""
    updates = []
    for (category, subcategory), totals in sorted(effects.nodes.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        assert totals.newest is not None
        order = totals.newest.order
        updates.append(
            _Update(
                data.aggregate_ref(user_id, category, subcategory),
                [
                    typed(CategoryAggregate),
                    CategoryAggregate.answered.add(totals.answered),
                    CategoryAggregate.correct.add(totals.correct),
                    CategoryAggregate.seen.add(totals.seen),
                    CategoryAggregate.category.set(category),
                    CategoryAggregate.subcategory.set(subcategory)
                    if subcategory
                    else CategoryAggregate.subcategory.remove(),
                ],
                [
                    CategoryAggregate.last_practised_at.set(totals.newest.answered_at),
                    CategoryAggregate.last_order.set(order),
                ],
                CategoryAggregate.last_order.does_not_exist() | (CategoryAggregate.last_order < order),
            )
        )
    for question_id, tally in sorted(effects.questions.items()) if statistics else ():
        updates.append(_Update(*cohort.question_stat_update(question_id, tally)))
    for day, totals in sorted(effects.days.items()):
        updates.append(
            _Update(
                data.day_ref(user_id, day),
                [
                    DailyStat.date.set(day),
                    typed(DailyStat),
                    DailyStat.answered.add(totals.answered),
                    DailyStat.correct.add(totals.correct),
                    DailyStat.attempt_time_sec.add(totals.time_sec),
                ],
            )
        )
    return updates


@dataclass(frozen=True)
class _Guard:
    """What makes a chunk apply once: a watermark moved from its read value, or a new claim."""

    item: TableItem
    actions: list[Action]
    condition: Condition


def _commit(user_id: str, chunk: Chunk, guard: _Guard, ledger: cohort.LedgerEntry | None = None) -> bool:
    """One chunk's effects and its guard (a watermark or a claim) in one transaction, with the
    questions' statistics either as updates or as one ledger entry for the roll-up. Returns False
    when the guard refused: these answers were applied already. A newest-wins field that lost to a
    newer value already stored is dropped and the transaction retried, so counts land exactly once."""
    # The day markers go first, on their own: idempotent puts (1 WCU, not 2 in the transaction), and
    # a learner whose transaction then fails is still found by the reconcile of active learners.
    expires_at = clock.epoch() + ACTIVE_MARKER_TTL_SEC
    data.save_active_markers(
        [data.active_marker(user_id, day, expires_at) for day in sorted(chunk.effects.active_days)]
    )
    puts: list[TableItem] = [ledger] if ledger is not None else []
    updates = _updates(chunk.effects, user_id, statistics=ledger is None)
    keep_newest = [update.newer is not None for update in updates]
    # pynamodb sends puts before updates: the ledger entry first, then the guard, then the effects.
    guard_position, first_update = len(puts), len(puts) + 1
    for _ in range(len(updates) + 1):
        try:
            with transaction() as tx:
                for put in puts:
                    tx.save(put)
                tx.update(guard.item, actions=guard.actions, condition=guard.condition)
                for update, newest in zip(updates, keep_newest, strict=True):
                    actions = update.actions + (update.newest if newest else [])
                    tx.update(update.item, actions=actions, condition=update.newer if newest else None)
            return True
        except TransactWriteError as exc:
            failed = cancelled_positions(exc) if is_condition_failure(exc) else []
            if not failed:
                raise
            if guard_position in failed:
                return False
            for position in failed:
                keep_newest[position - first_update] = False
    raise RuntimeError("could not apply answers")  # unreachable: each retry drops a condition


def _with_firsts(answers: list[AnswerEvent], known: set[str]) -> list[AnswerEvent]:
    """These answers with the first to each question not in `known` marked; `known` takes them in."""
    firsts = mark_first_answers(answers, known)
    known.update(a.question_id for a in answers)
    return [firsts.get(a.source, a) for a in answers]


def _apply_session(
    user_id: str, session_id: str, answers: dict[int, AnswerEvent], watermark: int, known: set[str]
) -> None:
    todo, missing = pending(answers.items(), watermark)
    if missing:  # records lost (retries exhausted): read the session's answers back from their items
        stored = dict(practice_event(user_id, session_id, a.event()) for a in practice.answers(session_id) if a.seq)
        todo, missing = pending({**stored, **answers}.items(), watermark)
        if missing:
            raise RuntimeError(f"session {session_id} lacks answers {missing[:5]}; retry later")
    known.update(a.question_id for seq, a in answers.items() if seq <= watermark)  # applied before
    todo = _with_firsts(todo, known)
    applied = watermark
    for chunk in chunked(todo, fixed_items=2):
        through = applied + len(chunk.answers)
        condition = PracticeWatermark.applied == applied if applied else PracticeWatermark.applied.does_not_exist()
        actions = [typed(PracticeWatermark), PracticeWatermark.applied.set(through)]
        guard = _Guard(data.watermark_ref(user_id, session_id), actions, condition)
        if not _commit(user_id, chunk, guard, _practice_ledger(user_id, f"practice:{session_id}:{through}", chunk)):
            raise StaleWatermark(session_id)
        applied = through


def _practice_ledger(user_id: str, name: str, chunk: Chunk) -> cohort.LedgerEntry | None:
    """The chunk's ledger entry when that is the cheaper way to count its statistics (a batch of
    answers), None to count them in the transaction (a single answer)."""
    entry = cohort.ledger_entry(user_id, name, _contributions(chunk.answers))
    return entry if by_ledger(len(chunk.effects.questions), cohort.entry_bytes(entry)) else None


def _apply_exam(user_id: str, session_id: str, exam: ExamWork, known: set[str]) -> None:
    exam = replace(exam, events=_with_firsts(exam.events, known))
    for index, chunk in enumerate(exam.chunks()):
        claim = data.exam_chunk_claim(user_id, session_id, index)
        guard = _Guard(claim, [typed(AppliedRecord)], AppliedRecord.PK.does_not_exist())
        _commit(user_id, chunk, guard, exam.ledger(user_id, session_id, index, chunk))


def apply_learner(user_id: str, work: LearnerWork) -> None:
    """Everything a batch brought for one learner, exactly once however often it is delivered."""
    if accounts.is_erased(user_id):
        return  # a late record of an erased account must not recreate its data
    cards = review.cards_of(user_id, {a.question_id for a in work.events()})
    apply_counts(user_id, work, set(cards))
    _reschedule_cards(user_id, work, cards)


def apply_counts(user_id: str, work: LearnerWork, answered_before: set[str]) -> None:
    """The answers' counts (aggregates, days, the cohort's statistics) under their guards: what a
    guard has seen already is skipped. Also how reconcile applies what the stream lost.

    `answered_before`: the questions the learner had cards for when the batch began. An answer to
    any other question is the learner's first (the distinct-question counts), once per question
    across the batch: the set grows with every chunk planned, applied or refused. Exact but for one
    race: a crash between a batch's transaction and its card writes while another batch brings the
    same new question may count it twice; reconcile recounts from the raw answers."""
    for _ in range(APPLY_ATTEMPTS):
        known = set(answered_before)
        try:
            marks = data.watermarks(user_id, sorted(work.practice))
            for session_id in sorted(work.practice):
                _apply_session(user_id, session_id, work.practice[session_id], marks[session_id], known)
            break
        except StaleWatermark:
            continue  # a concurrent delivery got there first; what is left is computed again
    else:
        raise RuntimeError(f"watermarks of {user_id} kept moving")
    for session_id, exam in sorted(work.exams.items()):
        _apply_exam(user_id, session_id, exam, known)


def _reschedule_cards(user_id: str, work: LearnerWork, cards: dict[str, Any]) -> None:
    """The touched questions' cards follow their new reviews (idempotent: also after a redelivery
    whose answers were applied already, which is how a crash between the two steps is repaired)."""
    events = work.events()
    if events:
        reschedule_cards(user_id, events, cards)


def reschedule_cards(user_id: str, events: list[AnswerEvent], cards: dict[str, Any] | None = None) -> int:
    """These answers join their questions' cards; returns how many cards moved."""
    new_reviews: dict[str, set[str]] = {}
    for event in events:
        new_reviews.setdefault(event.question_id, set()).add(review_entry(event))
    user = accounts.get_user(user_id)
    zone = user.timezone if user else "UTC"
    retention = float(user.review_retention) if user and user.review_retention is not None else None
    return review.reschedule(user_id, new_reviews, zone, retention, cards)


def _work_of(user_id: str) -> LearnerWork:
    return batch_shared(f"learner:{user_id}", LearnerWork)


def _apply_and_rebuild(user_id: str) -> list[FollowUp]:
    work = _work_of(user_id)
    return [FollowUp(f"apply:{user_id}", lambda: apply_learner(user_id, work)), _rebuild(user_id)]


def _rebuild(user_id: str) -> FollowUp:
    return FollowUp(f"snapshot:{user_id}", lambda: snapshot.rebuild(user_id), stage=1)


# --- consumers -----------------------------------------------------------------------------------


@consumes("PracticeSession")
def on_practice_session(change: StreamChange) -> list[FollowUp]:
    new, old = change.new or {}, change.old or {}
    if not new:
        return []
    user_id, session_id = str(new["user_id"]), str(new["session_id"])
    follow_ups: list[FollowUp] = []
    if new.get("last_answer") and int(new.get("answered", 0)) > int(old.get("answered", 0)):
        seq, event = practice_event(user_id, session_id, _json(new["last_answer"]))
        _work_of(user_id).practice[session_id][seq] = event
        follow_ups += _apply_and_rebuild(user_id)
    if new.get("status") == "completed" and old.get("status") != "completed":
        last = practice_end(new)
        follow_ups += [FollowUp(f"last-practice:{session_id}", lambda: _save_last(user_id, last)), _rebuild(user_id)]
    return follow_ups


def practice_end(new: dict[str, Any]) -> data.LastActivity:
    """The last-practice summary of a completed session (a stream image or the item's fields)."""
    answered, correct = int(new.get("answered", 0)), int(new.get("correct", 0))
    summary = {
        "session_id": new["session_id"],
        "answered": answered,
        "correct": correct,
        "incorrect": answered - correct,
        "score_percent": score_percent(answered, correct),
        "categories": list(new.get("category_names") or []),
    }
    finished_at = str(new["completed_at"])
    order = f"{finished_at}#{new['session_id']}"
    return data.last_activity(str(new["user_id"]), "practice", finished_at, order, summary)


@consumes("ExamSession")
def on_exam_session(change: StreamChange) -> list[FollowUp]:
    """A submitted exam counts towards aggregates and daily stats, and becomes the last exam."""
    new, old = change.new or {}, change.old or {}
    if new.get("status") != "submitted" or old.get("status") == "submitted":
        return []
    user_id, session_id = str(new["user_id"]), str(new["session_id"])
    exam = submitted_exam(new)  # before anything is written: a malformed paper applies nothing
    if exam is None:
        return []
    _work_of(user_id).exams[session_id] = exam
    last = exam_end(new, answered=len(exam.events))
    return [
        *_apply_and_rebuild(user_id),
        FollowUp(f"last-exam:{session_id}", lambda: _save_last(user_id, last)),
        FollowUp("cohort-roll-up", _roll_up_now, stage=1),
    ]


def _roll_up_now() -> None:
    """A submitted paper's statistics (and its review's) are rolled up at once rather than within
    the minute: its learner is likely to open the review next. Best effort: a failure is left to
    the minute's job (the roll-up is safe to run anywhere, at any time) and fails no record."""
    try:
        cohort_service.roll_up(clock.now(), max_runs=1)
    except Exception:
        logger.exception("immediate roll-up of the cohort's statistics failed; the minute's job will do it")


def exam_end(new: dict[str, Any], *, answered: int) -> data.LastActivity:
    """The last-exam summary of a submitted session (a stream image or the item's fields)."""
    submitted_at, session_id = str(new["submitted_at"]), str(new["session_id"])
    summary = {
        "exam": new["template_name"],
        "score_percent": float(new.get("score_percent") or 0),
        "time_spent_min": round(int(new.get("time_spent_sec") or 0) / 60),
        "answered": answered,
    }
    return data.last_activity(str(new["user_id"]), "exam", submitted_at, f"{submitted_at}#{session_id}", summary)


def _save_last(user_id: str, last: data.LastActivity) -> None:
    if not accounts.is_erased(user_id):
        data.save_last_activity(last)


@consumes("User", "HeartbeatClaim")
@consumes("TopicDismissal", removals=True)
def on_user_facing_change(change: StreamChange) -> list[FollowUp]:
    """New users get a dashboard at once; a time-zone change moves its days, an exam date or daily
    budget the plan; dismissals and heartbeats change what it shows."""
    new, old = change.new or {}, change.old or {}
    planned = ("timezone", "exam_date", "daily_minutes")  # the dashboard and the plan's inputs use them
    moved = change.event_name == "MODIFY" and any(new.get(name) != old.get(name) for name in planned)
    if change.item_type == "User" and change.event_name != "INSERT" and not moved:
        return []
    user_id = data.user_of(str((new or old).get("PK", "")))
    if not user_id:
        return []
    follow_ups = [_rebuild(user_id)]
    if change.item_type == "User" and new and old.get("exam_date") and not new.get("exam_date"):
        follow_ups.append(FollowUp(f"plan-cleared:{user_id}", lambda: snapshot.clear_plan_inputs(user_id)))
    return follow_ups
