"""Learners report problems with questions they have answered; editors work through the queue
(newest or most reported first) and resolve or reject with a note the reporter is told."""

from __future__ import annotations

import pytest

from chalicelib.audit.data import events_for_entity
from chalicelib.core.security import Role
from tests.support.accounts import register, staff
from tests.support.practice import answer, right, small_bank, start


@pytest.fixture
def bank(client):
    return small_bank(client)


@pytest.fixture
def editor(client):
    return staff(client, Role.EDITOR)


def answered(client, bank, stream, learner, count=3):
    """A learner who has answered `count` anatomy questions (their state reached by the stream)."""
    by_id = {q["id"]: q for q in bank["anatomy"]}
    session = start(client, learner["access"], categories=["anatomy"], question_count=count)
    for qid in session["question_ids"]:
        assert answer(client, learner["access"], session["id"], qid, right(by_id[qid])).status == 200
    stream.poll_once()
    return session["question_ids"]


def report(client, learner, question_id, reason="wrong_key", comment="Option B is right per NICE."):
    return client.post(
        f"/questions/{question_id}/reports", {"reason": reason, "comment": comment}, token=learner["access"]
    )


def test_a_learner_reports_once_and_an_editor_resolves_it_and_the_learner_is_told(client, bank, stream, editor):
    learner = register(client)
    question_id = answered(client, bank, stream, learner)[0]
    created = report(client, learner, question_id)
    assert created.status == 201 and created.json["status"] == "open"
    again = report(client, learner, question_id, reason="typo")
    assert again.status == 409  # one open report per learner and question

    queue = client.get("/questions/reports?status=open", token=editor["access"]).json
    assert [r["id"] for r in queue["reports"]] == [created.json["id"]]
    stem = client.get(f"/questions/{question_id}", token=learner["access"]).json["stem"]
    assert queue["reports"][0]["question_excerpt"] == stem[:120]
    closed = client.patch(
        f"/questions/{question_id}/reports/{created.json['id']}",
        {"status": "resolved", "note": "Fixed: the key now marks B."},
        token=editor["access"],
    )
    assert closed.status == 200 and closed.json["status"] == "resolved"
    twice = client.patch(
        f"/questions/{question_id}/reports/{created.json['id']}",
        {"status": "rejected", "note": "x"},
        token=editor["access"],
    )
    assert twice.status == 409
    assert client.get("/questions/reports?status=open", token=editor["access"]).json["reports"] == []
    inbox = client.get("/notifications", token=learner["access"]).json["items"]
    assert inbox[0]["title"] == "Your report on a question was fixed"
    assert "Fixed: the key now marks B." in inbox[0]["body"]
    assert [e.action for e in events_for_entity("question_report", created.json["id"])] == ["question_report.resolved"]
    assert report(client, learner, question_id, reason="typo").status == 201  # closed: may report again


def test_only_answered_published_questions_can_be_reported(client, bank, stream):
    learner = register(client)
    unseen = bank["pathology"][0]["id"]
    assert report(client, learner, unseen).status == 403
    assert report(client, learner, "0" * 32).status == 404
    question_id = answered(client, bank, stream, learner)[0]
    bad = client.post(f"/questions/{question_id}/reports", {"reason": "boring"}, token=learner["access"])
    assert bad.status == 422
    assert client.post(f"/questions/{question_id}/reports", {"reason": "typo"}).status == 401


def test_most_reported_first_and_editors_only(client, bank, stream, editor):
    learners = [register(client) for _ in range(3)]
    answered_by = [answered(client, bank, stream, learner, count=6) for learner in learners]
    popular, other = answered_by[0][0], answered_by[0][1]
    for learner in learners:
        assert report(client, learner, popular).status == 201
    assert report(client, learners[0], other, reason="unclear").status == 201
    queue = client.get("/questions/reports?sort=most_reported", token=editor["access"]).json
    assert [(q["question_id"], q["open_reports"]) for q in queue["questions"]] == [(popular, 3), (other, 1)]
    assert client.get("/questions/reports", token=learners[0]["access"]).status == 403
    refused = client.get("/questions/reports?sort=most_reported&status=resolved", token=editor["access"])
    assert refused.status == 422


def test_reports_are_rate_limited(client, bank, stream, monkeypatch):
    from chalicelib.core import config

    tight = config.get_settings().model_copy(update={"question_reports_per_hour": 2})
    monkeypatch.setattr("chalicelib.limits.service.get_settings", lambda: tight)
    learner = register(client)
    ids = answered(client, bank, stream, learner, count=3)
    assert [report(client, learner, qid).status for qid in ids] == [201, 201, 429]


def test_a_reporter_who_erases_their_account_leaves_an_anonymous_report(client, bank, stream, editor):
    from tests.support.accounts import PASSWORD

    learner = register(client)
    question_id = answered(client, bank, stream, learner)[0]
    created = report(client, learner, question_id, comment="Contact me at ada@example.com").json
    exported = client.get("/me/export", token=learner["access"])
    assert exported.status == 200, exported
    assert [r["comment"] for r in exported.json["items"]["QuestionReport"]] == ["Contact me at ada@example.com"]
    erased = client.delete("/me", body={"password": PASSWORD}, token=learner["access"])
    assert erased.status == 200, erased
    queue = client.get("/questions/reports", token=editor["access"]).json["reports"]
    assert [(r["id"], r["comment"]) for r in queue] == [(created["id"], "")]
    closed = client.patch(
        f"/questions/{question_id}/reports/{created['id']}",
        {"status": "resolved", "note": "Fixed."},
        token=editor["access"],
    )
    assert closed.status == 200  # and nobody is notified
