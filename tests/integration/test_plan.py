"""The plan to exam day through HTTP, with the clock injected: the exam date and daily budget on
the profile, today's reviews and new questions covering the bank in time, the shortfall when the
budget cannot, and distinct questions counted once however often they are answered."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core import clock
from chalicelib.core.security import Role
from tests.support.accounts import register, staff
from tests.support.practice import answers_by_id, right, small_bank, start, wrong

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def bank(client):
    return small_bank(client)  # 18 published questions: 6 anatomy, 6 physiology, 6 pathology


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """A clock that stays on the same day but moves (each rebuild is newer than the last)."""
    ticks = itertools.count()
    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(milliseconds=next(ticks)))


def day(offset: int) -> str:
    return (NOW + timedelta(days=offset)).date().isoformat()


def set_plan(client, token, **body):
    return client.patch("/me", body, token=token)


def plan(client, token):
    return client.get("/plan/today", token=token)


def test_the_profile_takes_an_exam_date_and_a_daily_budget(client, bank):
    token = register(client)["access"]
    refused = plan(client, token)
    assert refused.status == 409 and refused.json["error"]["code"] == "plan_not_set"
    assert set_plan(client, token, exam_date=day(-1)).status == 422  # in the past
    assert set_plan(client, token, daily_minutes=5).status == 422
    assert set_plan(client, token, exam_date="not a date").status == 422
    changed = set_plan(client, token, exam_date=day(30), daily_minutes=45)
    assert changed.status == 200
    assert (changed.json["exam_date"], changed.json["daily_minutes"]) == (day(30), 45)
    cleared = set_plan(client, token, exam_date=None)
    assert cleared.status == 200 and cleared.json["exam_date"] is None


def test_a_cleared_exam_date_ends_the_plan_and_learners_without_one_cost_no_plan_write(client, bank, stream):
    from local_stack.meter import metering

    token = register(client)["access"]
    session = start(client, token, categories=["anatomy"], question_count=2)
    by_id = answers_by_id(bank)
    first = session["question_ids"][0]
    body = {"question_id": first, "selected_option_ids": right(by_id[first]), "time_spent_sec": 30}
    assert client.post(f"/practice/sessions/{session['id']}/attempts", body, token=token).status == 200
    with metering() as meter:
        stream.poll_once()  # the answer and the dashboard rebuild: no exam date, no plan inputs
    assert meter.wcu_of("PlanInputs") == 0 and meter.wcu_of("DashboardSnapshot") > 0

    assert set_plan(client, token, exam_date=day(20), daily_minutes=30).status == 200
    stream.poll_once()
    assert plan(client, token).status == 200
    assert set_plan(client, token, exam_date=None).status == 200
    stream.poll_once()
    refused = plan(client, token)
    assert refused.status == 409 and refused.json["error"]["code"] == "plan_not_set"


def test_todays_new_questions_cover_the_bank_before_the_exam(client, bank, stream):
    token = register(client)["access"]
    assert set_plan(client, token, exam_date=day(10), daily_minutes=30).status == 200
    stream.poll_once()
    today = plan(client, token)
    assert today.status == 200, today
    found = today.json
    assert (found["date"], found["days_left"], found["unseen"]) == (day(0), 10, 18)
    assert found["seconds_per_question"] == 60  # not measured yet
    assert (found["required_new_per_day"], found["new_questions"], found["new_done"]) == (2, 2, 0)
    assert sum(c["new_questions"] for c in found["new_by_category"]) == 2
    assert found["on_track"] and found["behind_by_questions"] == 0 and found["minutes_today"] == 2

    # three anatomy questions answered, one of them twice: two distinct... then three
    by_id = answers_by_id(bank)
    session = start(client, token, categories=["anatomy"], question_count=3)
    for qid in session["question_ids"]:
        body = {"question_id": qid, "selected_option_ids": right(by_id[qid]), "time_spent_sec": 40}
        assert client.post(f"/practice/sessions/{session['id']}/attempts", body, token=token).status == 200
    again = start(client, token, categories=["anatomy"], question_count=6)
    repeat = session["question_ids"][0]
    body = {"question_id": repeat, "selected_option_ids": wrong(by_id[repeat]), "time_spent_sec": 40}
    assert client.post(f"/practice/sessions/{again['id']}/attempts", body, token=token).status == 200
    stream.poll_once()
    after = plan(client, token).json
    assert after["unseen"] == 15  # 18 - 3 distinct, the repeat counted once
    assert after["new_done"] == 3 and after["new_questions"] == 2  # today's target met: nothing left
    assert after["new_by_category"] == []
    assert client.get("/dashboard", token=token).json["performance"]["correct"] == 3


def test_a_budget_too_small_says_by_how_much_the_learner_is_behind(client, bank, stream):
    token = register(client)["access"]
    assert set_plan(client, token, exam_date=day(2), daily_minutes=10).status == 200
    stream.poll_once()
    found = plan(client, token).json
    # 18 unseen over 2 days = 9 a day; 10 minutes at 60 s hold 10: on track
    assert (found["required_new_per_day"], found["new_questions"], found["on_track"]) == (9, 9, True)
    assert set_plan(client, token, exam_date=day(1)).status == 200
    stream.poll_once()
    found = plan(client, token).json
    # one day for 18: 10 fit, 8 left unseen on exam day, 8 more minutes a day would do it
    assert (found["new_questions"], found["on_track"], found["behind_by_questions"]) == (10, False, 8)
    assert found["extra_minutes_per_day"] == 8


def test_the_exam_blueprint_weighs_the_new_questions_and_the_suggested_topics(client, bank, stream):
    examiner = staff(client, Role.EXAMINER)["access"]
    body = {
        "name": "Paper 1",
        "paper": "Paper 1",
        "duration_minutes": 60,
        "total_questions": 6,
        "blueprint": {"pathology": 6},
        "pass_mark_percent": 60,
    }
    assert client.post("/exams/templates", body, token=examiner).status == 201
    token = register(client)["access"]
    before = [t["slug"] for t in client.get("/dashboard", token=token).json["suggested_topics"]]
    assert before[:1] == ["anatomy"]  # taxonomy order without an exam date
    assert set_plan(client, token, exam_date=day(3), daily_minutes=60).status == 200
    stream.poll_once()
    found = plan(client, token).json
    shares = {c["category"]: c["new_questions"] for c in found["new_by_category"]}
    assert found["new_questions"] == 6 and shares["pathology"] > shares.get("anatomy", 0)
    suggested = [t["slug"] for t in client.get("/dashboard", token=token).json["suggested_topics"]]
    assert suggested[0] == "pathology"  # the exam weighs it: the plan covers it first
