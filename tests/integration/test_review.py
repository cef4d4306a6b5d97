"""Spaced review through HTTP: answers become FSRS cards (via the stream), the queue gives what is
due in the learner's day most overdue first within the daily allowance, the forecast counts the next
30 days, the `due` practice pool draws from the queue, and a seen question shows its recall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core import clock
from chalicelib.review import rules
from tests.support.accounts import register
from tests.support.practice import answers_by_id, right, small_bank, start, wrong

DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = DAY0
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def days_later(self, days: float) -> None:
        self.now = DAY0 + timedelta(days=days)


@pytest.fixture
def time(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def bank(client):
    return small_bank(client)


def attempt(client, token, session_id, question, options, seconds, confidence=None):
    body = {"question_id": question["id"], "selected_option_ids": options, "time_spent_sec": seconds}
    if confidence:
        body["confidence"] = confidence
    response = client.post(f"/practice/sessions/{session_id}/attempts", body, token=token)
    assert response.status == 200, response
    return response.json


def three_cards(client, bank, stream, token):
    """Three questions answered on day 0: fast and sure (Easy), right (Good), wrong (Again)."""
    by_id = answers_by_id(bank)
    session = start(client, token, categories=["anatomy"], question_count=3)
    easy, good, again = (by_id[qid] for qid in session["question_ids"])
    attempt(client, token, session["id"], easy, right(easy), 5, "sure")
    attempt(client, token, session["id"], good, right(good), 30)
    attempt(client, token, session["id"], again, wrong(again), 30)
    stream.poll_once()
    return easy, good, again


def queue(client, token):
    response = client.get("/review/queue", token=token)
    assert response.status == 200, response
    return response.json


def test_answers_become_cards_that_fall_due_most_overdue_first(client, bank, stream, time):
    learner = register(client)
    token = learner["access"]
    easy, good, again = three_cards(client, bank, stream, token)
    assert queue(client, token)["items"] == []  # nothing is due the day it was answered

    time.days_later(1.5)
    assert [c["question_id"] for c in queue(client, token)["items"]] == [again["id"]]  # Again: back next day

    time.days_later(60)
    due = queue(client, token)["items"]
    assert [c["question_id"] for c in due] == [again["id"], good["id"], easy["id"]]  # most overdue first
    assert due[0]["overdue_days"] > due[1]["overdue_days"] > due[2]["overdue_days"] >= 0
    assert all(0 < c["recall_probability"] < 1 for c in due)


def test_a_seen_question_shows_its_recall_fading_and_an_unseen_one_none(client, bank, stream, time):
    learner = register(client)
    token = learner["access"]
    _, good, _ = three_cards(client, bank, stream, token)
    time.days_later(1)
    soon = client.get(f"/questions/{good['id']}", token=token).json["review"]["recall_probability"]
    time.days_later(20)
    later = client.get(f"/questions/{good['id']}", token=token).json["review"]["recall_probability"]
    assert 1 > soon > later > 0
    unseen = next(q for q in bank["pathology"])
    assert client.get(f"/questions/{unseen['id']}", token=token).json["review"] is None
    other = register(client)  # cards are personal
    assert client.get(f"/questions/{good['id']}", token=other["access"]).json["review"] is None


def test_the_forecast_counts_each_card_on_its_due_day(client, bank, stream, time):
    learner = register(client)
    token = learner["access"]
    three_cards(client, bank, stream, token)
    days = client.get("/review/forecast", token=token).json["days"]
    assert len(days) == 30 and days[0]["date"] == "2026-11-02"
    due_days: dict[str, int] = {}
    time.days_later(60)
    for card in queue(client, token)["items"]:
        due_days[card["due"][:10]] = due_days.get(card["due"][:10], 0) + 1
    assert {d["date"]: d["due"] for d in days if d["due"]} == due_days


def test_the_due_pool_practises_the_queue_and_reviews_count_against_the_day(client, bank, stream, time, monkeypatch):
    learner = register(client)
    token = learner["access"]
    easy, good, again = three_cards(client, bank, stream, token)
    time.days_later(60)
    session = start(client, token, pool="due", question_count=2)
    assert session["question_ids"] == [again["id"], good["id"]]  # the two most overdue
    attempt(client, token, session["id"], again, right(again), 30)
    attempt(client, token, session["id"], good, right(good), 30)
    stream.poll_once()
    after = queue(client, token)
    assert after["reviewed_today"] == 2 and after["remaining_today"] == rules.DAILY_REVIEW_LIMIT - 2
    assert [c["question_id"] for c in after["items"]] == [easy["id"]]  # the reviewed two moved on
    monkeypatch.setattr(rules, "DAILY_REVIEW_LIMIT", 2)  # the allowance is spent: nothing more today
    spent = queue(client, token)
    assert spent["items"] == [] and spent["remaining_today"] == 0
    time.days_later(61)
    assert queue(client, token)["reviewed_today"] == 0  # a new day in the learner's zone


def test_a_higher_desired_retention_brings_reviews_sooner(client, bank, stream, time):
    relaxed, strict = register(client), register(client)
    assert client.patch("/me", {"review_retention": 0.5}, token=strict["access"]).status == 422
    response = client.patch("/me", {"review_retention": 0.97}, token=strict["access"])
    assert response.status == 200 and response.json["review_retention"] == 0.97
    client.patch("/me", {"review_retention": 0.80}, token=relaxed["access"])
    by_id = answers_by_id(bank)
    question = bank["anatomy"][0]
    for learner in (relaxed, strict):
        session = start(client, learner["access"], categories=["anatomy"], question_count=6)
        attempt(client, learner["access"], session["id"], by_id[question["id"]], right(question), 30)
    stream.poll_once()
    time.days_later(365)
    due = {
        name: queue(client, learner["access"])["items"][0]["due"]
        for name, learner in (("relaxed", relaxed), ("strict", strict))
    }
    assert due["strict"] < due["relaxed"]


def test_the_queue_and_forecast_need_a_signed_in_learner(client):
    assert client.get("/review/queue").status == 401
    assert client.get("/review/forecast").status == 401
