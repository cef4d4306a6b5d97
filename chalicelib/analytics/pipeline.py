"""Stream consumers that turn answers into aggregates, daily stats and each learner's dashboard.

Each answer's effects (category and subcategory aggregates, the day's stats, the question state,
the active-user marker) are applied in ONE transaction together with a claim on that answer, so a
redelivered or retried record changes nothing. Fields that must only move forward in time (last
practised, last result) carry a "newer than" condition; if a late record loses that race, the
transaction is retried without those fields, so counts still land exactly once.
The dashboard snapshot is then rebuilt from those aggregates, once per user per batch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.accounts import data as accounts
from chalicelib.analytics import data, snapshot
from chalicelib.analytics.data import AppliedRecord, CategoryAggregate, DailyStat, LastActivity
from chalicelib.core import clock
from chalicelib.core.db import TableItem, cancelled_positions, is_condition_failure, transaction, typed
from chalicelib.core.streams import FollowUp, StreamChange, consumes
from chalicelib.core.timeutil import local_date
from chalicelib.practice import data as practice
from chalicelib.practice.data import QuestionState
from chalicelib.questions.rules import score_percent

CLAIM_TTL_SEC = 7 * 86400


@dataclass(frozen=True)
class Answer:
    """An answered question, from a practice or exam answer record."""

    source: str  # a stable identity of the record, for the claim
    user_id: str
    question_id: str
    category: str
    subcategory: str | None
    is_correct: bool
    time_spent_sec: int
    answered_at: str
    local_date: str

    @classmethod
    def from_practice(cls, image: dict[str, Any]) -> Answer:
        return cls(
            source=data.practice_answer_source(str(image["session_id"]), str(image["question_id"])),
            user_id=str(image["user_id"]),
            question_id=str(image["question_id"]),
            category=str(image["category"]),
            subcategory=image.get("subcategory"),
            is_correct=bool(image["is_correct"]),
            time_spent_sec=int(image["time_spent_sec"]),
            answered_at=str(image["answered_at"]),
            local_date=str(image["local_date"]),
        )


@dataclass
class _Update:
    item: TableItem
    actions: list[Action]
    latest: list[Action]  # only applied if this record is the newest the item has seen
    newer: Condition | None


def _updates(answer: Answer) -> list[_Update]:
    correct = int(answer.is_correct)
    updates = []
    for subcategory in [None, answer.subcategory] if answer.subcategory else [None]:
        ref = data.aggregate_ref(answer.user_id, answer.category, subcategory)
        updates.append(
            _Update(
                ref,
                [
                    typed(CategoryAggregate),
                    CategoryAggregate.answered.add(1),
                    CategoryAggregate.correct.add(correct),
                    CategoryAggregate.category.set(answer.category),
                    CategoryAggregate.subcategory.set(subcategory)
                    if subcategory
                    else CategoryAggregate.subcategory.remove(),
                ],
                [CategoryAggregate.last_practised_at.set(answer.answered_at)],
                CategoryAggregate.last_practised_at.does_not_exist()
                | (CategoryAggregate.last_practised_at < answer.answered_at),
            )
        )
    day = data.day_ref(answer.user_id, answer.local_date)
    updates.append(
        _Update(
            day,
            [
                DailyStat.date.set(answer.local_date),
                typed(DailyStat),
                DailyStat.answered.add(1),
                DailyStat.correct.add(correct),
                DailyStat.attempt_time_sec.add(answer.time_spent_sec),
            ],
            [],
            None,
        )
    )
    state = practice.question_state_ref(answer.user_id, answer.question_id)
    updates.append(
        _Update(
            state,
            [typed(QuestionState), QuestionState.question_id.set(answer.question_id), QuestionState.answered.add(1)],
            [QuestionState.last_correct.set(answer.is_correct), QuestionState.last_answered_at.set(answer.answered_at)],
            QuestionState.last_answered_at.does_not_exist() | (QuestionState.last_answered_at < answer.answered_at),
        )
    )
    return updates


def apply_answer(answer: Answer) -> bool:
    """Apply one answer exactly once; returns False if it had already been applied."""
    claim = data.applied_claim(answer.user_id, answer.source, clock.epoch() + CLAIM_TTL_SEC)
    active = data.active_marker(answer.user_id, answer.answered_at[:10], clock.epoch() + 35 * 86400)
    updates = _updates(answer)
    latest_allowed = [update.newer is not None for update in updates]
    for _ in range(len(updates) + 1):
        try:
            with transaction() as tx:
                tx.save(claim, condition=AppliedRecord.PK.does_not_exist())
                tx.save(active)
                for update, latest in zip(updates, latest_allowed, strict=True):
                    actions = update.actions + (update.latest if latest else [])
                    tx.update(update.item, actions=actions, condition=update.newer if latest else None)
            return True
        except TransactWriteError as exc:
            failed = cancelled_positions(exc) if is_condition_failure(exc) else []
            if not failed:
                raise
            if 0 in failed:
                return False  # already applied: this is a redelivery
            for position in failed:  # a newer record already set these fields: keep them
                latest_allowed[position - 2] = False
    raise RuntimeError("could not apply answer")  # unreachable: each retry drops at least one condition


def record_last(user_id: str, kind: str, finished_at: str, summary: dict[str, Any]) -> None:
    """Keep the newest finished session of a kind; an older one arriving late changes nothing."""
    item = data.last_activity(user_id, kind, finished_at, summary)
    try:
        item.save(condition=LastActivity.PK.does_not_exist() | (LastActivity.finished_at <= finished_at))
    except PutError as exc:
        if not is_condition_failure(exc):  # otherwise a newer one is already stored
            raise


def _rebuild(user_id: str) -> FollowUp:
    return f"snapshot:{user_id}", lambda: snapshot.rebuild(user_id)


@consumes("PracticeAnswer")
def on_practice_answer(change: StreamChange) -> list[FollowUp]:
    if change.event_name != "INSERT" or change.new is None:
        return []
    answer = Answer.from_practice(change.new)
    if accounts.is_erased(answer.user_id):
        return []  # a late record of an erased account must not recreate its data
    apply_answer(answer)
    return [_rebuild(answer.user_id)]


@consumes("PracticeSession")
def on_practice_session(change: StreamChange) -> list[FollowUp]:
    new, old = change.new or {}, change.old or {}
    if new.get("status") != "completed" or old.get("status") == "completed":
        return []
    answered, correct = int(new.get("answered", 0)), int(new.get("correct", 0))
    summary = {
        "session_id": new["session_id"],
        "answered": answered,
        "correct": correct,
        "incorrect": answered - correct,
        "score_percent": score_percent(answered, correct),
        "categories": list(new.get("category_names") or []),
    }
    record_last(str(new["user_id"]), "practice", str(new["completed_at"]), summary)
    return [_rebuild(str(new["user_id"]))]


@consumes("ExamSession")
def on_exam_session(change: StreamChange) -> list[FollowUp]:
    """A submitted exam counts towards aggregates and daily stats, and becomes the last exam."""
    new, old = change.new or {}, change.old or {}
    if new.get("status") != "submitted" or old.get("status") == "submitted":
        return []
    user_id, session_id = str(new["user_id"]), str(new["session_id"])
    if accounts.is_erased(user_id):
        return []
    results: dict[str, Any] = _json(new.get("results")) or {}
    categories: dict[str, Any] = _json(new.get("categories")) or {}
    answered = [qid for qid, r in results.items() if r["selected"]]
    submitted_at = str(new["submitted_at"])
    day = local_date(submitted_at, str(new.get("timezone") or "UTC")).isoformat()
    for qid in answered:
        category, subcategory, _ = categories[qid]
        apply_answer(
            Answer(
                source=data.exam_answer_source(session_id, qid),
                user_id=user_id,
                question_id=qid,
                category=category,
                subcategory=subcategory,
                is_correct=bool(results[qid]["is_correct"]),
                time_spent_sec=int(results[qid].get("time_spent_sec", 0)),
                answered_at=submitted_at,
                local_date=day,
            )
        )
    record_last(
        user_id,
        "exam",
        submitted_at,
        {
            "exam": new["template_name"],
            "score_percent": float(new.get("score_percent") or 0),
            "time_spent_min": round(int(new.get("time_spent_sec") or 0) / 60),
            "answered": len(answered),
        },
    )
    return [_rebuild(user_id)]


def _json(value: Any) -> Any:
    """JSON attributes arrive in stream images as strings."""
    return json.loads(value) if isinstance(value, str) else value


@consumes("User", "TopicDismissal", "HeartbeatClaim")
def on_user_facing_change(change: StreamChange) -> list[FollowUp]:
    """New users get a dashboard at once; a time-zone change moves its days; dismissals and
    heartbeats change what it shows."""
    new, old = change.new or {}, change.old or {}
    zone_changed = change.event_name == "MODIFY" and new.get("timezone") != old.get("timezone")
    if change.item_type == "User" and change.event_name != "INSERT" and not zone_changed:
        return []
    user_id = data.user_of(str((new or old).get("PK", "")))
    return [_rebuild(user_id)] if user_id else []
