"""Defects the pipeline once had, each pinned: ties within one second, a rebuild reading a lagging
replica, a time-zone change that never reached the dashboard, an exam's seconds lost in a split,
and a session whose records were lost (retries ran out) applied from its answer items."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from app import app
from chalicelib.analytics import data as analytics
from chalicelib.analytics.data import AppliedRecord
from chalicelib.core.db import TableItem, user_pk
from chalicelib.review import data as review_data
from chalicelib.review.data import ReviewCard
from local_stack.streams import FakeLambdaContext
from tests.support.pipeline import account, answer, complete, open_session, submitted_exam_record
from tests.support.replicas import lag_every_replica

_ids = itertools.count()
SAME_INSTANT = "2026-11-20T10:00:00.250Z"


def handler(records: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(app.handler_map["table_stream"]({"Records": records}, FakeLambdaContext()))


def learner() -> str:
    return account(f"tie-{next(_ids)}")


def session_with(user: str, session_id: str, answers: list[tuple[str, bool, str]], *, complete_at: str = "") -> None:
    """A practice session whose answers (question, correct, time) go through the request path's write."""
    open_session(user, session_id, [q for q, _, _ in answers], started_at="2026-11-20T09:00:00.000Z")
    for question, correct, at in answers:
        answer(user, session_id, question, correct=correct, at=at)
    if complete_at:
        complete(user, session_id, complete_at)


def state(user: str, question: str) -> ReviewCard:
    """What the pools read of a question: its review card (answers, the newest one's result)."""
    card = review_data.get_card(user, question)
    assert card is not None
    return card


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "reversed"])
def test_same_instant_answers_keep_the_same_newest_in_either_delivery_order(stream, reverse):
    user = learner()
    session_with(user, "tie-a", [("q1", False, SAME_INSTANT)], complete_at=SAME_INSTANT)
    session_with(user, "tie-b", [("q1", True, SAME_INSTANT)], complete_at=SAME_INSTANT)
    records = stream.read()
    for batch in (records[::-1] if reverse else records,):
        assert handler(batch)["batchItemFailures"] == []
    # The total order is (time, source): session "tie-b" sorts after "tie-a" at the same instant.
    assert state(user, "q1").last_correct is True
    assert len(state(user, "q1").reviews or ()) == 2
    last = analytics.last_activities(user)["practice"]
    assert last.summary["session_id"] == "tie-b"


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "reversed"])
def test_same_instant_answers_delivered_in_separate_batches(stream, reverse):
    user = learner()
    session_with(user, "tie-a", [("q1", False, SAME_INSTANT)])
    first = stream.read()
    session_with(user, "tie-b", [("q1", True, SAME_INSTANT)])
    second = stream.read()
    for batch in (second, first) if reverse else (first, second):
        assert handler(batch)["batchItemFailures"] == []
    assert state(user, "q1").last_correct is True


def test_the_rebuild_sees_the_answers_it_follows_even_when_replicas_lag(stream, monkeypatch):
    """Eventually consistent reads may miss a write made milliseconds earlier: here every such read
    answers as a replica that has seen nothing yet. The dashboard must still count the answers."""
    user = learner()
    session_with(user, "lag", [("q1", True, "2026-11-20T10:00:00.000Z"), ("q2", False, "2026-11-20T10:01:00.000Z")])
    records = stream.read()
    lag_every_replica(monkeypatch)
    assert handler(records)["batchItemFailures"] == []
    monkeypatch.undo()
    body = analytics.snapshot(user).body  # type: ignore[union-attr]
    assert body["performance"]["correct"] == 1 and body["performance"]["incorrect"] == 1
    assert body["daily_study_sec"] == {"2026-11-20": 40}


def test_a_time_zone_change_rebuilds_the_dashboard(client, stream):
    from tests.support.accounts import register

    learner_out = register(client)
    stream.poll_once()
    user_id = learner_out["user"]["id"]
    assert analytics.snapshot(user_id).body["timezone"] == "UTC"  # type: ignore[union-attr]
    response = client.patch("/me", {"timezone": "Asia/Tokyo"}, token=learner_out["access"])
    assert response.status == 200, response
    stream.poll_once()
    assert analytics.snapshot(user_id).body["timezone"] == "Asia/Tokyo"  # type: ignore[union-attr]


def test_lost_session_records_are_read_back_from_the_answer_items(stream):
    """Records of answers 1-2 were skipped (retries ran out); answer 3's record arrives: the gap
    below it is read from the session's answer items, so all three count, once."""
    user = learner()
    at = ["2026-11-20T10:00:00.000Z", "2026-11-20T10:01:00.000Z", "2026-11-20T10:02:00.000Z"]
    session_with(user, "gap", [("q1", True, at[0]), ("q2", True, at[1])])
    stream.read()  # lost
    answer(user, "gap", "q3", correct=False, at=at[2])
    assert handler(stream.read())["batchItemFailures"] == []
    day = analytics.all_daily_stats(user)["2026-11-20"]
    assert (int(day.answered), int(day.correct), int(day.attempt_time_sec)) == (3, 2, 60)
    assert handler(stream.read())["batchItemFailures"] == []  # nothing new: nothing changes
    assert int(analytics.all_daily_stats(user)["2026-11-20"].answered) == 3


def test_an_exams_time_reaches_the_day_without_losing_seconds(stream):
    user = learner()
    answered = [(f"q{n}", "anatomy", "0", n % 2 == 0, 7) for n in range(3)]
    blank = ("q3", "anatomy", "", False, 0)  # left blank
    # 21 s on answers, 79 s reading and on the blank one
    record = submitted_exam_record(
        user, "e1", [*answered, blank], time_spent_sec=100, submitted_at="2026-11-20T11:00:00.000Z"
    )
    assert handler([record])["batchItemFailures"] == []
    day = analytics.all_daily_stats(user)["2026-11-20"]
    assert (int(day.answered), int(day.correct), int(day.attempt_time_sec)) == (3, 2, 100)
    assert handler([record])["batchItemFailures"] == []  # redelivered: counted once
    assert int(analytics.all_daily_stats(user)["2026-11-20"].answered) == 3
    assert len([i for i in TableItem.query(user_pk(user)) if isinstance(i, AppliedRecord)]) == 1
