"""Throttles that hold: each limit is driven through HTTP until it trips (429, Retry-After, the JSON
envelope), and its window reopens. Counters live in DynamoDB, so they are exact across containers."""

from __future__ import annotations

import pytest
import time_machine
from chalice.local import LambdaEventConverter

from chalicelib.accounts import data as accounts_data
from chalicelib.core import config
from chalicelib.core.security import Role
from tests.integration.test_exams import blueprint_template
from tests.integration.test_tokens import claims_of
from tests.support.accounts import PASSWORD, register, staff
from tests.support.practice import small_bank, start

START = "2026-11-24 10:00:00Z"  # the start of an hour, so every window starts here


@pytest.fixture
def limits(monkeypatch):
    """Tighter limits for one test: limits(register_per_ip_per_hour=3, ...)."""

    def tighten(**values):
        tight = config.get_settings().model_copy(update=values)
        monkeypatch.setattr("chalicelib.limits.service.get_settings", lambda: tight)

    return tighten


@pytest.fixture
def from_ip(monkeypatch):
    def use(address):
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


def login(client, email, password=PASSWORD):
    return client.post("/auth/login", {"email": email, "password": password})


def fresh_token(client, token):
    """The same account signed in again (an hour on, its access token has expired)."""
    user = accounts_data.get_user(claims_of(token)["sub"])
    assert user is not None
    email = user.email
    return login(client, email).json["access"]


def assert_throttled(response, retry_after):
    assert response.status == 429, response
    assert response.error_code == "rate_limited" and response.json["request_id"]
    assert int(response.headers["retry-after"]) == retry_after


class TestLogin:
    def test_a_stranger_cannot_lock_a_user_out_of_their_own_network(self, client, from_ip):
        with time_machine.travel(START, tick=False):
            register(client, "owner@example.com")
            from_ip("203.0.113.9")  # the attacker
            for _ in range(5):
                assert login(client, "owner@example.com", "Wrong-guess-1").status == 401
            assert_throttled(login(client, "owner@example.com"), 15 * 60)
            from_ip("198.51.100.7")  # the owner, at home
            assert login(client, "owner@example.com").status == 200

    def test_the_per_account_ceiling_holds_across_addresses_and_reopens(self, client, from_ip, limits):
        limits(login_account_max_failures=8)
        with time_machine.travel(START, tick=False) as traveller:
            register(client, "target@example.com")
            for index in range(8):
                from_ip(f"203.0.113.{index}")
                assert login(client, "target@example.com", "Wrong-guess-1").status == 401
            from_ip("198.51.100.7")
            assert_throttled(login(client, "target@example.com"), 3600)
            traveller.shift(3600)
            assert login(client, "target@example.com").status == 200

    def test_unknown_accounts_are_throttled_the_same_way(self, client):
        with time_machine.travel(START, tick=False):
            for _ in range(5):
                assert login(client, "nobody@example.com", "Wrong-guess-1").status == 401
            assert_throttled(login(client, "nobody@example.com", "Wrong-guess-1"), 15 * 60)


class TestMail:
    def test_one_mailbox_gets_at_most_three_reset_mails_an_hour(self, client, outbox):
        with time_machine.travel(START, tick=False) as traveller:
            register(client, "inbox@example.com")
            before = len(outbox.messages())
            for _ in range(3):
                assert client.post("/auth/forgot-password", {"email": "inbox@example.com"}).status in (200, 202, 204)
            assert_throttled(client.post("/auth/forgot-password", {"email": "inbox@example.com"}), 3600)
            assert len(outbox.messages()) - before == 3
            traveller.shift(3600)
            assert client.post("/auth/forgot-password", {"email": "inbox@example.com"}).status in (200, 202, 204)

    def test_one_network_cannot_mail_many_mailboxes(self, client, limits):
        limits(mail_per_ip_per_hour=4)
        with time_machine.travel(START, tick=False):
            for index in range(4):
                client.post("/auth/forgot-password", {"email": f"someone{index}@example.com"})
            assert_throttled(client.post("/auth/forgot-password", {"email": "someone9@example.com"}), 3600)

    def test_verification_resends_are_limited_per_address(self, client):
        with time_machine.travel(START, tick=False):
            token = register(client, "resend@example.com")["access"]
            statuses = [client.post("/auth/verify-email/resend", token=token).status for _ in range(4)]
        assert statuses == [202, 202, 202, 429]


class TestEveryoneElse:
    def test_registrations_per_network(self, client, limits):
        limits(register_per_ip_per_hour=3)
        with time_machine.travel(START, tick=False) as traveller:
            for index in range(3):
                register(client, f"new{index}@example.com")
            body = {"email": "new9@example.com", "password": PASSWORD, "display_name": "N"}
            assert_throttled(client.post("/auth/register", body), 3600)
            traveller.shift(3600)
            assert client.post("/auth/register", body).status == 201

    def test_practice_sessions_per_learner(self, client, limits):
        limits(practice_sessions_per_hour=2)
        small_bank(client)
        with time_machine.travel(START, tick=False) as traveller:
            token = register(client)["access"]
            for _ in range(2):
                start(client, token, categories=["anatomy"], question_count=1)
            body = {"categories": ["anatomy"], "question_count": 1}
            assert_throttled(client.post("/practice/sessions", body, token=token), 3600)
            other = register(client)["access"]  # per learner: someone else is unaffected
            assert client.post("/practice/sessions", body, token=other).status == 201
            traveller.shift(3600)
            token = fresh_token(client, token)  # access tokens last 15 minutes
            assert client.post("/practice/sessions", body, token=token).status == 201

    def test_exam_starts_per_learner(self, client, limits):
        limits(exam_starts_per_hour=1)
        small_bank(client)
        template = blueprint_template(client, staff(client, Role.EXAMINER))
        with time_machine.travel(START, tick=False) as traveller:
            token = register(client)["access"]
            body = {"template_id": template["id"]}
            assert client.post("/exams/sessions", body, token=token).status == 201
            assert_throttled(client.post("/exams/sessions", body, token=token), 3600)
            traveller.shift(3600)
            assert client.post("/exams/sessions", body, token=fresh_token(client, token)).status == 201

    def test_answers_per_learner(self, client, limits):
        limits(answers_per_hour=1)
        bank = small_bank(client)
        with time_machine.travel(START, tick=False) as traveller:
            token = register(client)["access"]
            session = start(client, token, categories=["anatomy"], question_count=2)
            by_id = {q["id"]: q for qs in bank.values() for q in qs}
            first, second = session["question_ids"]

            def answer(qid):
                option = next(o["id"] for o in by_id[qid]["options"] if o["is_correct"])
                body = {"question_id": qid, "selected_option_ids": [option], "time_spent_sec": 5}
                return client.post(f"/practice/sessions/{session['id']}/attempts", body, token=token)

            assert answer(first).status == 200
            assert_throttled(answer(second), 3600)
            traveller.shift(3600)
            token = fresh_token(client, token)
            assert answer(second).status == 200

    def test_imports_per_editor(self, client, limits):
        limits(imports_per_hour=1)
        body = {"dry_run": True, "questions": [{"stem": "x"}]}
        with time_machine.travel(START, tick=False) as traveller:
            editor = staff(client, Role.EDITOR)
            assert client.post("/questions/import", body, token=editor["access"]).status == 202
            assert_throttled(client.post("/questions/import", body, token=editor["access"]), 3600)
            traveller.shift(3600)
            assert client.post("/questions/import", body, token=fresh_token(client, editor["access"])).status == 202
