"""Billing: plans (data), a learner's subscription, checkout through the provider, Stripe's webhooks
processed once each and in any order, and the entitlement checks every gated module calls (one
place: `require_feature`, `count_question`)."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.accounts import data as accounts
from chalicelib.audit.data import Change, audited_transaction
from chalicelib.billing import data, rules
from chalicelib.billing.data import Plan, ProcessedEvent, Subscription
from chalicelib.billing.provider import provider
from chalicelib.billing.schemas import (
    CheckoutOut,
    LocalCheckoutOut,
    PlanIn,
    PlanOut,
    PlanPatch,
    SubscriptionOut,
    WebhookOut,
)
from chalicelib.core import clock, flags
from chalicelib.core.cache import TtlCache
from chalicelib.core.config import get_settings
from chalicelib.core.db import cancelled_positions, is_condition_failure, transaction, typed
from chalicelib.core.errors import ApiError, Conflict, NotFound, PaymentRequired, Unprocessable
from chalicelib.core.security import Principal, Role
from chalicelib.limits import service as limits

PLAN_CACHE_SEC = 60
EFFECTIVE_PLAN_CACHE_SEC = 60
_plans: TtlCache[list[Plan]] = TtlCache("billing-plans", PLAN_CACHE_SEC)
_effective: TtlCache[str] = TtlCache("billing-effective-plan", EFFECTIVE_PLAN_CACHE_SEC)


class BadWebhook(ApiError):
    status, code = 400, "bad_webhook"


# --- plans -----------------------------------------------------------------------------------------


def all_plans() -> list[Plan]:
    return list(_plans.get_or_load("all", data.plans))


def _plan_out(plan: Plan) -> PlanOut:
    return PlanOut(
        code=plan.code,
        name=plan.name,
        price_pence=int(plan.price_pence),
        currency=plan.currency,
        interval=plan.interval,
        features=sorted(plan.features or ()),
        daily_questions=None if plan.daily_questions is None else int(plan.daily_questions),
        active=bool(plan.active),
        version=int(plan.version),
    )


def list_plans(principal: Principal | None) -> list[PlanOut]:
    flags.require("billing")
    return [_plan_out(p) for p in all_plans() if p.active]


def create_plan(actor: Principal, request: PlanIn) -> PlanOut:
    flags.require("billing")
    fields = request.model_dump(exclude={"code"}, exclude_none=True)
    fields["features"] = set(request.features) or None
    plan = data.new_plan(request.code, version=1, **fields)
    out = _plan_out(plan)
    change = Change(actor.user_id, "billing_plan.created", "billing_plan", plan.code, after=out.model_dump(mode="json"))
    with audited_transaction(change, otherwise=Conflict("A plan with this code exists.")) as tx:
        tx.save(plan, condition=Plan.PK.does_not_exist())
    _plans.invalidate("all")
    return out


def update_plan(actor: Principal, code: str, patch: PlanPatch) -> PlanOut:
    flags.require("billing")
    plan = data.get_plan(code)
    if plan is None:
        raise NotFound("No such plan.")
    before = _plan_out(plan).model_dump(mode="json")
    changes = patch.changes()
    if patch.version is not None and patch.version != int(plan.version):
        raise Conflict("The plan changed meanwhile; reload it.")
    changes.pop("version", None)
    for name, value in changes.items():
        setattr(plan, name, (set(value) or None) if name == "features" else value)  # no empty sets in DynamoDB
    plan.version = int(plan.version) + 1
    after = _plan_out(plan).model_dump(mode="json")
    change = Change(actor.user_id, "billing_plan.updated", "billing_plan", code, before=before, after=after)
    with audited_transaction(change, otherwise=Conflict("The plan changed meanwhile; reload it.")) as tx:
        tx.save(plan, condition=Plan.version == int(plan.version) - 1)
    _plans.invalidate("all")
    return _plan_out(plan)


# --- entitlements ------------------------------------------------------------------------------------


def effective_plan(user_id: str) -> str:
    """The plan the learner's subscription gives now; cached a minute per container (a webhook
    invalidates this container's copy at once), so the common path reads nothing."""

    def load() -> str:
        found = data.get_subscription(user_id, consistent=False)
        return rules.effective_plan(found.state() if found else None, clock.epoch())

    return _effective.get_or_load(user_id, load)


def _terms(code: str) -> rules.PlanTerms | None:
    return next((p.terms() for p in all_plans() if p.code == code), None)


def _refuse(feature: str | None, message: str) -> PaymentRequired:
    unlocking = rules.cheapest_unlocking([p.terms() for p in all_plans()], feature)
    return PaymentRequired(message, details=[{"feature": feature or "daily_questions", "plan": unlocking}])


def require_feature(principal: Principal, feature: str) -> None:
    """402 plan_required unless the learner's plan unlocks the feature (staff and a paywall that is
    off let everything through)."""
    if not flags.enabled("paywall") or principal.role != Role.USER:
        return
    if not rules.unlocks(_terms(effective_plan(principal.user_id)), feature):
        raise _refuse(feature, f"Your plan does not include {feature.replace('_', ' ')}.")


DAILY_QUESTIONS = "plan-daily-questions"


def count_question(principal: Principal, timezone: str) -> bool:
    """One practice question against the plan's daily allowance (in the learner's day): the Nth is
    allowed, the N+1th refused with 402, the next local day allowed again. Unlimited plans and a
    paywall that is off count nothing (no write). True when a question was counted."""
    if not flags.enabled("paywall") or principal.role != Role.USER:
        return False
    terms = _terms(effective_plan(principal.user_id))
    allowance = 0 if terms is None else terms.daily_questions
    if allowance is None:
        return False
    start, end = rules.day_window(clock.now(), timezone)
    if not limits.take_in_window(DAILY_QUESTIONS, principal.user_id, start, end, allowance):
        raise _refuse(None, f"Your plan includes {allowance} practice questions a day; come back tomorrow or upgrade.")
    return True


def uncount_question(principal: Principal, timezone: str) -> None:
    """The counted question was refused (a duplicate, a closed session): it is not spent."""
    start, _ = rules.day_window(clock.now(), timezone)
    limits.give_back_in_window(DAILY_QUESTIONS, principal.user_id, start)


# --- the learner's subscription and checkout ---------------------------------------------------------


def subscription(principal: Principal) -> SubscriptionOut:
    flags.require("billing")
    found = data.get_subscription(principal.user_id)
    state = found.state() if found else None
    return SubscriptionOut(
        plan=rules.effective_plan(state, clock.epoch()),
        subscribed_plan=state.plan if state else None,
        status=state.status if state else "none",
        current_period_end=clock.iso_from_ms(state.current_period_end * 1000)
        if state and state.current_period_end
        else None,
        cancel_at_period_end=bool(state.cancel_at_period_end) if state else False,
        grace_until=clock.iso_from_ms(state.grace_until * 1000) if state and state.grace_until else None,
    )


def _iso(epoch: int | None) -> str | None:
    return None if not epoch else clock.iso_from_ms(epoch * 1000)


def checkout(principal: Principal, plan_code: str) -> CheckoutOut:
    flags.require("billing")
    plan = next((p for p in all_plans() if p.code == plan_code and p.active), None)
    if plan is None or plan.code == rules.FREE_PLAN:
        raise Unprocessable(
            "No such paid plan.", details=[{"field": "plan", "message": "No such paid plan.", "type": "invalid"}]
        )
    if get_settings().billing_provider == "stripe" and not plan.provider_price_id:
        raise Conflict("This plan is not on sale yet (it has no Stripe price).")
    found = data.get_subscription(principal.user_id)
    if found and rules.effective_plan(found.state(), clock.epoch()) == plan_code:
        raise Conflict("You are on this plan already.")
    user = accounts.get_user(principal.user_id)
    url = provider().checkout_url(
        user_id=principal.user_id,
        email=user.email if user else "",
        plan_code=plan_code,
        price_id=plan.provider_price_id,
        customer=found.customer_id if found else None,
    )
    return CheckoutOut(url=url)


def portal(principal: Principal) -> CheckoutOut:
    flags.require("billing")
    found = data.get_subscription(principal.user_id)
    if found is None or not found.customer_id:
        raise Conflict("You have no subscription to manage yet.")
    return CheckoutOut(url=provider().portal_url(customer=found.customer_id))


# --- webhooks ----------------------------------------------------------------------------------------

HANDLED = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
)


def verified_event(raw_body: bytes, signature: str | None) -> dict[str, Any]:
    """Stripe's own verification (the library): HMAC-SHA256 of the raw body, compared in constant
    time, the timestamp within 300 s. Anything else is a 400 and nothing is read."""
    import stripe

    if not signature:
        raise BadWebhook("Missing Stripe-Signature header.")
    try:
        stripe.WebhookSignature.verify_header(
            raw_body.decode("utf-8"), signature, get_settings().billing_webhook_secret, tolerance=300
        )
        event = json.loads(raw_body)
    except stripe.SignatureVerificationError as exc:
        raise BadWebhook("The signature does not verify (or its timestamp is too old).") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadWebhook("The body is not a JSON event.") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise BadWebhook("The body is not an event.")
    return event


def handle_webhook(raw_body: bytes, signature: str | None) -> WebhookOut:
    flags.require("billing")
    event = verified_event(raw_body, signature)
    kind = str(event["type"])
    if kind not in HANDLED:
        return WebhookOut(received=True, handled=False)
    change = _change_of(event)
    applied = _apply(event, change)
    _effective.invalidate(change.user_id)
    return WebhookOut(received=True, handled=True, applied=applied)


class _Change:
    def __init__(self, user_id: str, actions: list[Any], link: str | None = None) -> None:
        self.user_id, self.actions, self.link = user_id, actions, link


def _user_of(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    user_id = obj.get("client_reference_id") or metadata.get("user_id")
    if not user_id and obj.get("customer"):
        user_id = data.user_of_customer(str(obj["customer"]))
    if not user_id:
        # Stripe retries a non-2xx for three days: the checkout event that links the customer comes
        raise Conflict("This customer is not linked to a learner yet.")
    return str(user_id)


def _plan_of(obj: dict[str, Any]) -> str:
    plan = (obj.get("metadata") or {}).get("plan")
    if plan:
        return str(plan)
    items = ((obj.get("items") or {}).get("data")) or []
    price = ((items[0].get("price") or {}).get("id")) if items else None
    by_price = {str(p.provider_price_id): p.code for p in all_plans() if p.provider_price_id}
    return by_price.get(str(price), rules.FREE_PLAN)


def _change_of(event: dict[str, Any]) -> _Change:
    kind, obj = str(event["type"]), dict((event.get("data") or {}).get("object") or {})
    when = int(event.get("created") or 0)
    user_id = _user_of(obj)
    common = [typed(Subscription), Subscription.event_time.set(when)]
    customer = str(obj["customer"]) if obj.get("customer") else None
    if customer:
        common.append(Subscription.customer_id.set(customer))
    if kind == "checkout.session.completed":
        actions = [Subscription.plan.set(_plan_of(obj)), Subscription.status.set("active")]
        if obj.get("subscription"):
            actions.append(Subscription.subscription_id.set(str(obj["subscription"])))
        return _Change(user_id, common + actions, customer)
    if kind.startswith("customer.subscription."):
        deleted = kind.endswith(".deleted") or obj.get("status") == "canceled"
        actions = [
            Subscription.plan.set(rules.FREE_PLAN if deleted else _plan_of(obj)),
            Subscription.status.set("canceled" if deleted else str(obj.get("status") or "active")),
            Subscription.subscription_id.set(str(obj.get("id"))),
            Subscription.cancel_at_period_end.set(bool(obj.get("cancel_at_period_end"))),
        ]
        if obj.get("current_period_end"):
            actions.append(Subscription.current_period_end.set(int(obj["current_period_end"])))
        return _Change(user_id, common + actions, customer)
    if kind == "invoice.paid":
        return _Change(
            user_id, [*common, Subscription.status.set("active"), Subscription.grace_until.remove()], customer
        )
    grace = rules.grace_until(when, get_settings().payment_grace_days)  # invoice.payment_failed
    return _Change(
        user_id, [*common, Subscription.status.set("past_due"), Subscription.grace_until.set(grace)], customer
    )


def _apply(event: dict[str, Any], change: _Change) -> bool:
    """The event's claim and its effect in one transaction; the effect only if the event is not
    older than the one that last moved the subscription. Returns whether the state moved."""
    when = int(event.get("created") or 0)
    claim = data.processed_event(str(event["id"]), str(event["type"]), clock.epoch())
    newer = Subscription.event_time.does_not_exist() | (Subscription.event_time <= when)
    for with_effect in (True, False):
        try:
            with transaction() as tx:
                tx.save(claim, condition=ProcessedEvent.PK.does_not_exist())
                if change.link:
                    tx.save(data.customer_link(change.link, change.user_id))
                if with_effect:
                    tx.update(data.subscription_ref(change.user_id), actions=change.actions, condition=newer)
            return with_effect
        except TransactWriteError as exc:
            failed = cancelled_positions(exc) if is_condition_failure(exc) else []
            if 0 in failed:
                return False  # this event was processed already (a retry by Stripe)
            if not failed:
                raise
            # the subscription moved on with a newer event: record this one as seen, change nothing
    return False


def complete_local_checkout(token: str) -> LocalCheckoutOut:
    """The local provider's checkout page: the payment "succeeds" and Stripe's events are sent to the
    app's own webhook endpoint, signed as Stripe signs them."""
    import stripe

    flags.require("billing")
    if get_settings().billing_provider != "local":
        raise NotFound("Not found.")
    pending = data.take_local_checkout(token)
    if pending is None:
        raise NotFound("No such checkout (or it was completed already).")
    now = clock.epoch()
    customer, subscription_id = f"cus_local_{pending.user_id[:12]}", f"sub_local_{token[:12]}"
    metadata = {"user_id": pending.user_id, "plan": pending.plan}
    events = [
        {
            "id": f"evt_local_{token}_1",
            "type": "checkout.session.completed",
            "created": now,
            "data": {
                "object": {
                    "client_reference_id": pending.user_id,
                    "customer": customer,
                    "subscription": subscription_id,
                    "metadata": metadata,
                }
            },
        },
        {
            "id": f"evt_local_{token}_2",
            "type": "customer.subscription.created",
            "created": now,
            "data": {
                "object": {
                    "id": subscription_id,
                    "customer": customer,
                    "status": "active",
                    "metadata": metadata,
                    "current_period_end": now + 30 * 86400,
                    "cancel_at_period_end": False,
                }
            },
        },
    ]
    secret = get_settings().billing_webhook_secret
    for event in events:
        body = json.dumps(event)
        handle_webhook(body.encode(), stripe.WebhookSignature.generate_signature_header(body, secret))
    return LocalCheckoutOut(status="paid", plan=pending.plan)
