"""Billing through HTTP against moto: plans as data, the checkout-to-entitlement flow through the
local provider, Stripe's webhooks (signed with the library's own scheme) once each and in any order,
the entitlements at their boundaries, and the module flags."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe
import time_machine

from chalicelib.core import clock
from chalicelib.core.cache import reset_all_caches
from chalicelib.core.config import get_settings
from chalicelib.core.security import Role
from seeds.loader import load_plans
from tests.support.accounts import PASSWORD, register, staff
from tests.support.practice import answers_by_id, right, small_bank, start

SECRET = "whsec_test_0123456789abcdef0123456789abcdef"  # tests/conftest.py sets it for the app
_events = itertools.count(1)


@pytest.fixture(autouse=True)
def plans():
    load_plans()


@pytest.fixture
def flags(monkeypatch) -> Iterator[Any]:
    """Turn module flags on or off for this test (the settings are read once: cleared around)."""

    def set_flags(**values: bool) -> None:
        monkeypatch.setenv("FEATURE_FLAGS", json.dumps(values))
        get_settings.cache_clear()

    yield set_flags
    monkeypatch.delenv("FEATURE_FLAGS", raising=False)
    get_settings.cache_clear()


def send(
    client: Any, event: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None, header: bool = True
):
    body = json.dumps(event)
    headers = (
        {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)}
        if header
        else {}
    )
    return client.post("/billing/webhooks/stripe", raw=body.encode(), headers=headers)


def event(kind: str, obj: dict[str, Any], created: int, event_id: str | None = None) -> dict[str, Any]:
    return {"id": event_id or f"evt_{next(_events)}", "type": kind, "created": created, "data": {"object": obj}}


def subscription_object(user_id: str, plan: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "customer": "cus_1",
        "status": status,
        "metadata": {"user_id": user_id, "plan": plan},
        "current_period_end": 1_900_000_000,
        "cancel_at_period_end": False,
        **extra,
    }


def me(client: Any, token: str) -> str:
    return str(client.get("/me", token=token).json["id"])


def subscription(client: Any, token: str) -> dict[str, Any]:
    response = client.get("/billing/subscription", token=token)
    assert response.status == 200, response
    return dict(response.json)


# --- plans and flags ---------------------------------------------------------------------------------


def test_plans_are_public_data_that_admins_change_audited(client):
    listed = client.get("/billing/plans")
    assert listed.status == 200
    assert [(p["code"], p["price_pence"], p["daily_questions"]) for p in listed.json] == [
        ("free", 0, 20),
        ("monthly", 2900, None),
        ("yearly", 19900, None),
    ]
    admin = staff(client, Role.ADMIN)["access"]
    changed = client.patch("/billing/plans/monthly", {"price_pence": 3100, "version": 1}, token=admin)
    assert changed.status == 200 and changed.json["price_pence"] == 3100 and changed.json["version"] == 2
    assert client.patch("/billing/plans/monthly", {"price_pence": 3200, "version": 1}, token=admin).status == 409
    assert client.patch("/billing/plans/monthly", {"features": ["teleport"]}, token=admin).status == 422
    emptied = client.patch("/billing/plans/free", {"features": [], "daily_questions": None}, token=admin)
    assert emptied.status == 200 and (emptied.json["features"], emptied.json["daily_questions"]) == ([], None)
    assert client.patch("/billing/plans/nope", {"price_pence": 1}, token=admin).status == 404
    assert client.patch("/billing/plans/monthly", {"price_pence": 1}, token=register(client)["access"]).status == 403
    audit = client.get("/admin/audit?entity=billing_plan:monthly", token=admin).json["items"]
    assert audit[0]["action"] == "billing_plan.updated" and audit[0]["after"]["price_pence"] == 3100
    assert [p["price_pence"] for p in client.get("/billing/plans").json if p["code"] == "monthly"] == [3100]


def test_a_disabled_module_answers_404(client, flags):
    token = register(client)["access"]
    flags(billing=False, review=False)
    assert client.get("/billing/plans").status == 404
    assert client.get("/billing/subscription", token=token).status == 404
    assert send(client, event("invoice.paid", {"customer": "cus_1"}, clock.epoch())).status == 404
    assert client.get("/review/queue", token=token).status == 404
    flags(billing=True, review=True)
    assert client.get("/billing/plans").status == 200
    assert client.get("/review/queue", token=token).status == 200


# --- checkout to entitlement ---------------------------------------------------------------------------


def test_checkout_through_the_local_provider_unlocks_the_paid_features(client, flags):
    flags(paywall=True)
    token = register(client)["access"]
    refused = client.get("/review/queue", token=token)
    assert refused.status == 402
    assert refused.json["error"]["code"] == "plan_required"
    assert refused.json["error"]["details"] == [{"feature": "review_queue", "plan": "monthly"}]
    assert subscription(client, token)["plan"] == "free"

    assert client.post("/billing/checkout", {"plan": "teleport"}, token=token).status == 422
    assert client.post("/billing/checkout", {"plan": "free"}, token=token).status == 422
    url = client.post("/billing/checkout", {"plan": "monthly"}, token=token).json["url"]
    path = url.split("/api/v1", 1)[1]
    paid = client.get(path)  # the provider's page: pays, and signs Stripe's events to the webhook
    assert paid.status == 200 and paid.json == {"status": "paid", "plan": "monthly"}
    assert client.get(path).status == 404  # once

    mine = subscription(client, token)
    assert (mine["plan"], mine["status"], mine["cancel_at_period_end"]) == ("monthly", "active", False)
    assert client.get("/review/queue", token=token).status == 200
    assert client.get("/analytics/heatmap", token=token).status == 200
    assert client.post("/billing/checkout", {"plan": "monthly"}, token=token).status == 409  # already on it
    assert client.post("/billing/portal", token=token).json["url"]


def test_with_the_paywall_off_everything_is_unlocked(client, flags):
    flags(paywall=False)
    token = register(client)["access"]
    assert client.get("/review/queue", token=token).status == 200
    assert client.get("/analytics/trends", token=token).status == 200


# --- webhooks --------------------------------------------------------------------------------------------


def test_signatures_are_checked_on_the_raw_body(client):
    user = me(client, register(client)["access"])
    paid = event("customer.subscription.created", subscription_object(user, "monthly"), clock.epoch())
    assert send(client, paid, secret="whsec_someone_else").status == 400
    assert send(client, paid, timestamp=clock.epoch() - 301).status == 400  # older than the 300 s tolerance
    missing = send(client, paid, header=False)
    assert missing.status == 400 and missing.json["error"]["code"] == "bad_webhook"
    body = json.dumps(paid)
    tampered = body.replace("monthly", "yearly")
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    assert (
        client.post("/billing/webhooks/stripe", raw=tampered.encode(), headers={"Stripe-Signature": header}).status
        == 400
    )
    not_json = "not json"
    header = stripe.WebhookSignature.generate_signature_header(not_json, SECRET)
    assert (
        client.post("/billing/webhooks/stripe", raw=not_json.encode(), headers={"Stripe-Signature": header}).status
        == 400
    )
    assert send(client, paid).status == 200  # the same event, properly signed


def test_the_same_event_five_times_applies_once(client):
    token = register(client)["access"]
    user = me(client, token)
    created = event("customer.subscription.created", subscription_object(user, "monthly"), clock.epoch(), "evt_same")
    answers = [send(client, created).json for _ in range(5)]
    assert [a["applied"] for a in answers] == [True, False, False, False, False]
    assert subscription(client, token)["plan"] == "monthly"


def test_out_of_order_events_move_the_state_only_forward(client):
    token = register(client)["access"]
    user = me(client, token)
    t = clock.epoch()
    # .updated (newer) arrives before .created (older): the newer state stays
    assert send(client, event("customer.subscription.updated", subscription_object(user, "yearly"), t + 10)).json[
        "applied"
    ]
    assert not send(client, event("customer.subscription.created", subscription_object(user, "monthly"), t)).json[
        "applied"
    ]
    assert subscription(client, token)["subscribed_plan"] == "yearly"
    cancelling = subscription_object(user, "yearly", cancel_at_period_end=True)
    assert send(client, event("customer.subscription.updated", cancelling, t + 20)).json["applied"]
    assert subscription(client, token)["cancel_at_period_end"] is True
    assert send(
        client, event("customer.subscription.deleted", subscription_object(user, "yearly", "canceled"), t + 30)
    ).json["applied"]
    assert subscription(client, token)["plan"] == "free"
    # an old retry of an update after the deletion changes nothing
    assert not send(client, event("customer.subscription.updated", subscription_object(user, "yearly"), t + 15)).json[
        "applied"
    ]
    assert subscription(client, token)["status"] == "canceled"


def test_a_failed_payment_keeps_the_plan_for_the_grace_period_then_downgrades(client):
    start_at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start_at, tick=False):
        learner = register(client)
        token, user = learner["access"], learner["user"]["id"]
        t = clock.epoch()
        checkout_done = {"client_reference_id": user, "customer": "cus_9", "metadata": {"plan": "monthly"}}
        send(client, event("checkout.session.completed", checkout_done, t))
        assert send(client, event("invoice.payment_failed", {"customer": "cus_9"}, t + 60)).json["applied"]
        late = subscription(client, token)
        assert (late["plan"], late["status"]) == ("monthly", "past_due")
        assert late["grace_until"].startswith("2026-12-08T12:01")  # 7 days after the failure
    with time_machine.travel(start_at + timedelta(days=7, minutes=2), tick=False):
        reset_all_caches()
        token = client.post("/auth/login", {"email": learner["user"]["email"], "password": PASSWORD}).json["access"]
        assert subscription(client, token)["plan"] == "free"  # the grace is over
        assert send(client, event("invoice.paid", {"customer": "cus_9"}, clock.epoch())).json["applied"]
        assert subscription(client, token)["plan"] == "monthly"


def test_event_types_it_ignores_get_a_2xx(client):
    ignored = send(client, event("customer.tax_id.created", {"id": "txi_1"}, clock.epoch()))
    assert ignored.status == 200 and ignored.json == {"received": True, "handled": False, "applied": None}


def test_an_event_for_an_unknown_customer_is_refused_for_stripe_to_retry(client):
    orphan = send(client, event("invoice.paid", {"customer": "cus_nobody"}, clock.epoch()))
    assert orphan.status == 409


# --- entitlements at their boundaries ------------------------------------------------------------------


def test_the_daily_allowance_refuses_the_next_question_until_the_learners_next_day(client, flags, monkeypatch):
    flags(paywall=True)
    bank = small_bank(client)
    by_id = answers_by_id(bank)
    admin = staff(client, Role.ADMIN)["access"]
    assert client.patch("/billing/plans/free", {"daily_questions": 3}, token=admin).status == 200
    token = register(client)["access"]
    assert client.patch("/me", {"timezone": "Pacific/Auckland"}, token=token).status == 200
    now = [datetime(2026, 12, 1, 10, 0, tzinfo=UTC)]  # 23:00 in Auckland
    monkeypatch.setattr(clock, "now", lambda: now[0])
    session = start(client, token, categories=["anatomy"], question_count=6)

    def answer(qid: str):
        body = {"question_id": qid, "selected_option_ids": right(by_id[qid]), "time_spent_sec": 20}
        return client.post(f"/practice/sessions/{session['id']}/attempts", body, token=token)

    ids = session["question_ids"]
    assert [answer(qid).status for qid in ids[:2]] == [200, 200]
    assert answer(ids[0]).status == 409  # a refused answer (already answered) does not spend the allowance
    assert answer(ids[2]).status == 200  # the 3rd is allowed
    refused = answer(ids[3])
    assert refused.status == 402  # the 4th is not
    assert refused.json["error"]["details"] == [{"feature": "daily_questions", "plan": "monthly"}]
    now[0] = datetime(2026, 12, 1, 10, 59, tzinfo=UTC)  # 23:59 in Auckland: still the same day
    assert answer(ids[3]).status == 402
    now[0] = datetime(2026, 12, 1, 11, 1, tzinfo=UTC)  # 00:01 the next day in Auckland (UTC still 1 Dec)
    assert answer(ids[3]).status == 200


def test_full_papers_need_a_paid_plan_quick_mocks_do_not(client, flags, monkeypatch):
    monkeypatch.setenv("QUICK_MOCK_MAX_QUESTIONS", "3")
    flags(paywall=True)
    bank = small_bank(client)
    examiner = staff(client, Role.EXAMINER)["access"]

    def template(count: int) -> str:
        body = {
            "name": f"Mock {count}",
            "paper": "Paper 1",
            "duration_minutes": 10,
            "total_questions": count,
            "question_ids": [q["id"] for q in bank["anatomy"][:count]],
            "pass_mark_percent": 60,
        }
        response = client.post("/exams/templates", body, token=examiner)
        assert response.status == 201, response
        return str(response.json["id"])

    quick, full = template(3), template(5)
    token = register(client)["access"]
    assert client.post("/exams/sessions", {"template_id": quick}, token=token).status == 201
    refused = client.post("/exams/sessions", {"template_id": full}, token=token)
    assert refused.status == 402 and refused.json["error"]["details"][0]["feature"] == "full_papers"


def test_stripe_checkout_and_portal_go_through_the_library_with_the_stages_secret(client, monkeypatch):
    """The Stripe provider, with Stripe's client replaced by a recorder (tests never call Stripe):
    the key comes from Secrets Manager (moto), the session carries the learner and the plan."""
    from types import SimpleNamespace

    import boto3

    secret = {"api_key": "sk_test_from_secrets_manager", "webhook_secret": SECRET}
    boto3.client("secretsmanager").create_secret(Name="openmrcs/test/billing", SecretString=json.dumps(secret))
    monkeypatch.setenv("BILLING_PROVIDER", "stripe")
    monkeypatch.setenv("BILLING_SECRET_ID", "openmrcs/test/billing")
    get_settings.cache_clear()
    calls: list[tuple[str, Any]] = []

    class Sessions:
        def __init__(self, kind: str) -> None:
            self.kind = kind

        def create(self, params: dict[str, Any]) -> Any:
            calls.append((self.kind, params))
            return SimpleNamespace(url=f"https://stripe.test/{self.kind}")

    class Client:
        def __init__(self, api_key: str) -> None:
            calls.append(("key", api_key))
            self.v1 = SimpleNamespace(
                checkout=SimpleNamespace(sessions=Sessions("checkout")),
                billing_portal=SimpleNamespace(sessions=Sessions("portal")),
            )

    monkeypatch.setattr(stripe, "StripeClient", Client)
    try:
        learner = register(client)
        token, user = learner["access"], learner["user"]["id"]
        assert client.post("/billing/checkout", {"plan": "monthly"}, token=token).status == 409  # no Stripe price yet
        admin = staff(client, Role.ADMIN)["access"]
        assert client.patch("/billing/plans/monthly", {"provider_price_id": "price_123"}, token=admin).status == 200
        assert (
            client.post("/billing/checkout", {"plan": "monthly"}, token=token).json["url"]
            == "https://stripe.test/checkout"
        )
        key, (kind, params) = calls[-2], calls[-1]
        assert key == ("key", "sk_test_from_secrets_manager") and kind == "checkout"
        assert params["mode"] == "subscription" and params["line_items"] == [{"price": "price_123", "quantity": 1}]
        assert params["client_reference_id"] == user and params["customer_email"] == learner["user"]["email"]
        assert params["subscription_data"]["metadata"] == {"user_id": user, "plan": "monthly"}
        linked = {"client_reference_id": user, "customer": "cus_42", "metadata": {"plan": "monthly"}}
        assert send(client, event("checkout.session.completed", linked, clock.epoch())).json["applied"]
        assert client.post("/billing/portal", token=token).json["url"] == "https://stripe.test/portal"
        assert calls[-1] == ("portal", {"customer": "cus_42", "return_url": "http://localhost:3000/billing"})
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
