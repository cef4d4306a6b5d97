"""DynamoDB cancels a transaction that meets another on the same item (TransactionConflict) or a hot
partition (throttling); moto never does, so those cancellations are injected here. A learner must
see the write succeed after a retry, or a clear 503 to retry later, never a 500 or a half-write."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from chalicelib.core.db import RetryingTransactWrite
from tests.support.accounts import register
from tests.support.practice import answer, right, small_bank, start


class Conflicts:
    """Cancels the next `remaining` TransactWriteItems calls before they reach the table."""

    def __init__(self, reason: str = "TransactionConflict") -> None:
        self.remaining = 0
        self.injected = 0
        self.reason = reason

    def intercept(self, original: Any) -> Any:
        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if operation == "TransactWriteItems" and self.remaining > 0:
                self.remaining -= 1
                self.injected += 1
                items = params["TransactItems"]
                reasons = [{"Code": "None"}] * (len(items) - 1) + [{"Code": self.reason, "Message": "injected"}]
                error = {
                    "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                    "CancellationReasons": reasons,
                }
                raise ClientError(error, operation)  # type: ignore[arg-type]  # the stubs' TypedDict
            return original(client, operation, params)

        return make_api_call


@pytest.fixture
def conflicts(monkeypatch: pytest.MonkeyPatch) -> Conflicts:
    injector = Conflicts()
    monkeypatch.setattr(BaseClient, "_make_api_call", injector.intercept(BaseClient._make_api_call))  # type: ignore[attr-defined]
    delays: list[float] = []
    monkeypatch.setattr(RetryingTransactWrite, "sleep", staticmethod(delays.append))
    return injector


@pytest.fixture
def practising(client: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    bank = small_bank(client)
    learner = register(client)
    session = start(client, learner["access"], categories=["anatomy"])
    return bank, learner, session


def _question(bank: dict[str, Any], session: dict[str, Any], index: int = 0) -> dict[str, Any]:
    by_id = {q["id"]: q for qs in bank.values() for q in qs}
    return dict(by_id[session["question_ids"][index]])


@pytest.mark.parametrize("reason", ["TransactionConflict", "ThrottlingError"])
def test_an_answer_lands_once_after_transient_cancellations(client, conflicts, practising, reason):
    bank, learner, session = practising
    question = _question(bank, session)
    conflicts.reason, conflicts.remaining = reason, 3
    response = answer(client, learner["access"], session["id"], question["id"], right(question))
    assert response.status == 200, response
    assert conflicts.injected == 3
    progress = client.get(f"/practice/sessions/{session['id']}", token=learner["access"]).json["progress"]
    assert progress["answered"] == 1  # counted once, not once per attempt


def test_persistent_conflicts_give_a_503_with_retry_after_and_write_nothing(client, conflicts, practising):
    bank, learner, session = practising
    question = _question(bank, session)
    conflicts.remaining = 100
    response = answer(client, learner["access"], session["id"], question["id"], right(question))
    assert response.status == 503, response
    assert response.json["error"]["code"] == "service_busy"
    assert int(response.headers["retry-after"]) >= 1
    conflicts.remaining = 0
    progress = client.get(f"/practice/sessions/{session['id']}", token=learner["access"]).json["progress"]
    assert progress["answered"] == 0
    retried = answer(client, learner["access"], session["id"], question["id"], right(question))
    assert retried.status == 200, retried  # the learner's retry then succeeds


def test_exam_submit_survives_a_conflict(client, conflicts, practising):
    from chalicelib.core.security import Role
    from tests.support.accounts import staff

    examiner = staff(client, Role.EXAMINER)
    template = client.post(
        "/exams/templates",
        {
            "name": "Conflicted",
            "paper": "Paper 1",
            "duration_minutes": 10,
            "total_questions": 3,
            "blueprint": {"anatomy": 3},
            "pass_mark_percent": 50,
        },
        token=examiner["access"],
    ).json
    _, learner, _ = practising
    started = client.post("/exams/sessions", {"template_id": template["id"]}, token=learner["access"]).json
    conflicts.remaining = 2
    submitted = client.post(f"/exams/sessions/{started['id']}/submit", token=learner["access"])
    assert submitted.status == 200, submitted
    assert conflicts.injected == 2
    again = client.post(f"/exams/sessions/{started['id']}/submit", token=learner["access"])
    assert again.status == 409, again  # submitted once, by the retried transaction
