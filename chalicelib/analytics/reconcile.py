"""The way back when the stream lost something: recompute a learner's aggregates, daily stats,
review cards and dashboard from the raw answers, and repair whatever differs.

Safe to run at any time, also while the pipeline runs: the guards (practice watermarks, exam
claims) are advanced first, so the pipeline will not apply again what the repair is about to
count; every repair write is conditional on the value read, so a concurrent pipeline write makes
the repair start over for that learner rather than overwrite it. Running it twice changes nothing.

The cohort's question statistics are sums over every learner, so they cannot be recomputed for
one: instead, advancing a guard adds the answers it skips to them, in the same transaction (the
guard's condition makes that happen once, exactly as in the pipeline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.accounts import data as accounts
from chalicelib.analytics import data, pipeline, snapshot
from chalicelib.analytics.data import CategoryAggregate, DailyStat
from chalicelib.analytics.effects import AnswerEvent, Effects, Totals, fold, mark_first_answers
from chalicelib.analytics.pipeline import ExamWork, exam_end, practice_end, practice_event, submitted_exam
from chalicelib.core import clock
from chalicelib.core.db import TableItem, is_condition_failure, typed
from chalicelib.core.jobs import job
from chalicelib.core.observability import logger
from chalicelib.exams import data as exams
from chalicelib.practice import data as practice

ATTEMPTS = 5
ACTIVE_WINDOW_DAYS = 35  # the active-day markers' lifetime


class Moved(Exception):
    """Something changed between the read and the repair: start this learner over."""


@dataclass
class Raw:
    events: list[AnswerEvent]
    practice: dict[str, dict[int, AnswerEvent]]  # practice session -> its answers by sequence
    exams: dict[str, ExamWork]  # submitted exam -> its answers
    lasts: list[data.LastActivity]


def _raw(user_id: str) -> Raw:
    """Every answer and finished session of a learner, read from the source items; the same
    functions the stream consumers use turn them into events (items have the images' fields)."""
    events: list[AnswerEvent] = []
    by_session: dict[str, dict[int, AnswerEvent]] = {}
    lasts: list[data.LastActivity] = []
    for session in practice.all_sessions(user_id):
        answers = dict(
            practice_event(user_id, session.session_id, a.event())
            for a in practice.answers(session.session_id)
            if a.seq
        )
        events += answers.values()
        if answers:
            by_session[session.session_id] = answers
        if session.status == "completed" and session.completed_at:
            lasts.append(practice_end(session.attribute_values))
    submitted: dict[str, ExamWork] = {}
    for exam in exams.all_sessions(user_id):
        if exam.status != "submitted" or not exam.submitted_at:
            continue
        work = submitted_exam(exam.attribute_values)
        if work is None:
            continue
        events += work.events
        submitted[exam.session_id] = work
        lasts.append(exam_end(exam.attribute_values, answered=len(work.events)))
    # each question's earliest answer is the learner's first: the distinct-question counts
    firsts = mark_first_answers(events, set())
    events = [firsts.get(a.source, a) for a in events]
    return Raw(events, by_session, submitted, lasts)


def _advance_guards(user_id: str, raw: Raw) -> None:
    """First, so the pipeline will not apply again what the repair counts: whatever the guards have
    not seen yet goes through the pipeline's own guarded transactions (exactly once, the cohort's
    statistics included); the repair below then fixes whatever still differs."""
    answered = {a.question_id for a in raw.events}  # distinct counts: the repair below sets them
    pipeline.apply_counts(user_id, pipeline.LearnerWork(practice=raw.practice, exams=raw.exams), answered)


def _update(item: TableItem, actions: list[Action], condition: Condition) -> None:
    """A conditional repair write; a refusal means the pipeline wrote since the read."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise Moved from exc
        raise


def _unchanged(attribute: Any, stored: Any) -> Condition:
    """The item still holds what was read (or still does not exist)."""
    if stored is None:
        return attribute.does_not_exist()  # type: ignore[no-any-return]
    return attribute == stored  # type: ignore[no-any-return]


def _repair_nodes(user_id: str, expected: Effects) -> int:
    stored = data.aggregates(user_id, consistent=True)
    repaired = 0
    for key in sorted(set(stored) | set(expected.nodes), key=lambda k: (k[0], k[1] or "")):
        want, have = expected.nodes.get(key, Totals()), stored.get(key)
        newest = want.newest
        if have is not None and (int(have.answered), int(have.correct), int(have.seen or 0), have.last_order) == (
            want.answered,
            want.correct,
            want.seen,
            newest.order if newest else have.last_order,
        ):
            continue
        category, subcategory = key
        actions = [
            typed(CategoryAggregate),
            CategoryAggregate.category.set(category),
            CategoryAggregate.answered.set(want.answered),
            CategoryAggregate.correct.set(want.correct),
            CategoryAggregate.seen.set(want.seen),
        ]
        actions.append(
            CategoryAggregate.subcategory.set(subcategory) if subcategory else CategoryAggregate.subcategory.remove()
        )
        if newest is not None:
            actions += [
                CategoryAggregate.last_practised_at.set(newest.answered_at),
                CategoryAggregate.last_order.set(newest.order),
            ]
        condition = _unchanged(CategoryAggregate.answered, int(have.answered) if have else None)
        _update(data.aggregate_ref(user_id, category, subcategory), actions, condition)
        repaired += 1
    return repaired


def _repair_days(user_id: str, expected: Effects) -> int:
    stored = data.all_daily_stats(user_id)
    repaired = 0
    for day in sorted(set(stored) | set(expected.days)):
        want, have = expected.days.get(day, Totals()), stored.get(day)
        if have is not None and (int(have.answered), int(have.correct), int(have.attempt_time_sec)) == (
            want.answered,
            want.correct,
            want.time_sec,
        ):
            continue
        actions = [
            typed(DailyStat),
            DailyStat.date.set(day),
            DailyStat.answered.set(want.answered),
            DailyStat.correct.set(want.correct),
            DailyStat.attempt_time_sec.set(want.time_sec),  # heartbeat time is not the answers': kept
        ]
        condition = _unchanged(DailyStat.answered, int(have.answered) if have else None)
        _update(data.day_ref(user_id, day), actions, condition)
        repaired += 1
    return repaired


def _repair_cards(user_id: str, raw: Raw) -> int:
    """Every raw answer is a review of its card (those already there change nothing), and each card
    is recomputed and placed in the due index again. Returns the cards that moved."""
    return pipeline.reschedule_cards(user_id, raw.events) if raw.events else 0


def reconcile_learner(user_id: str) -> dict[str, int]:
    """Repairs one learner; returns how many items of each kind were rewritten."""
    if accounts.is_erased(user_id):
        return {}
    for _ in range(ATTEMPTS):
        try:
            raw = _raw(user_id)
            _advance_guards(user_id, raw)
            expected = fold(raw.events)
            repaired = {
                "aggregates": _repair_nodes(user_id, expected),
                "days": _repair_days(user_id, expected),
                "review_cards": _repair_cards(user_id, raw),
            }
        except Moved:
            continue  # the pipeline wrote meanwhile: read everything again
        for last in raw.lasts:
            data.save_last_activity(last)
        snapshot.rebuild(user_id)
        if any(repaired.values()):
            logger.warning("learner reconciled", extra={"user_id": user_id, **repaired})
        return repaired
    raise RuntimeError(f"learner {user_id} kept changing during reconciliation; run it again")


@job("reconcile_active_learners")
def reconcile_active_learners() -> dict[str, Any]:
    """Every learner active in the last 35 days (per-day ACTIVE# partitions: no Scan)."""
    today = clock.now().date()
    users: set[str] = set()
    for offset in range(ACTIVE_WINDOW_DAYS):
        users.update(data.active_users((today - timedelta(days=offset)).isoformat()))
    repaired = {user_id: reconcile_learner(user_id) for user_id in sorted(users)}
    changed = {user: counts for user, counts in repaired.items() if any(counts.values())}
    return {"learners": len(users), "repaired": len(changed)}
