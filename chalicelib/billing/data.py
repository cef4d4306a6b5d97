"""Plans, subscriptions and Stripe bookkeeping, and their keys. See docs/data-model.md, BL1-BL7.

`BILLING` / `PLAN#<code>`: a plan (data, not code: admins edit it). `USER#<u>` / `SUBSCRIPTION`: the
learner's subscription as the provider last told it (with the event time that moved it).
`STRIPECUST#<customer>` / `CUSTOMER`: which learner a provider customer is. `STRIPEEVT#<event id>` /
`EVENT`: a webhook event processed (written in the transaction of its effect; TTL 30 days, beyond
Stripe's 3 days of retries)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.billing.rules import PlanTerms, SubscriptionState
from chalicelib.core.db import TableItem, is_condition_failure, user_pk

PLANS_PK = "BILLING"
PLAN_PREFIX = "PLAN#"
SUBSCRIPTION_SK = "SUBSCRIPTION"
EVENT_TTL_SEC = 30 * 86400


class Plan(TableItem, discriminator="BillingPlan"):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    price_pence = NumberAttribute()
    currency = UnicodeAttribute(default="gbp")
    interval = UnicodeAttribute()  # month | year | none (free)
    features = UnicodeSetAttribute(null=True)
    daily_questions = NumberAttribute(null=True)  # None: unlimited
    provider_price_id = UnicodeAttribute(null=True)  # Stripe's price id
    active = BooleanAttribute(default=True)
    order = NumberAttribute(default=0)
    version = NumberAttribute(default=1)

    def terms(self) -> PlanTerms:
        return PlanTerms(
            code=self.code,
            features=frozenset(self.features or ()),
            daily_questions=None if self.daily_questions is None else int(self.daily_questions),
            price_pence=int(self.price_pence),
            active=bool(self.active),
        )


class Subscription(TableItem, discriminator="Subscription"):
    plan = UnicodeAttribute()
    status = UnicodeAttribute()
    current_period_end = NumberAttribute(null=True)
    cancel_at_period_end = BooleanAttribute(default=False)
    grace_until = NumberAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    subscription_id = UnicodeAttribute(null=True)
    event_time = NumberAttribute(default=0)

    def state(self) -> SubscriptionState:
        return SubscriptionState(
            plan=self.plan,
            status=self.status,
            current_period_end=None if self.current_period_end is None else int(self.current_period_end),
            cancel_at_period_end=bool(self.cancel_at_period_end),
            grace_until=None if self.grace_until is None else int(self.grace_until),
            version=int(self.event_time),
        )


class CustomerLink(TableItem, discriminator="CustomerLink"):
    user_id = UnicodeAttribute()


class ProcessedEvent(TableItem, discriminator="ProcessedEvent"):
    event_type = UnicodeAttribute()


def plan_key(code: str) -> tuple[str, str]:
    return PLANS_PK, PLAN_PREFIX + code


def new_plan(code: str, **fields: Any) -> Plan:
    pk, sk = plan_key(code)
    return Plan(PK=pk, SK=sk, code=code, **fields)


def plans() -> list[Plan]:
    """Every plan: one Query (a handful of items)."""
    return sorted(
        (p for p in Plan.query(PLANS_PK, Plan.SK.startswith(PLAN_PREFIX)) if isinstance(p, Plan)),
        key=lambda p: (int(p.order), p.code),
    )


def get_plan(code: str) -> Plan | None:
    try:
        return Plan.get(*plan_key(code), consistent_read=True)
    except DoesNotExist:
        return None


def subscription_ref(user_id: str) -> Subscription:
    return Subscription(PK=user_pk(user_id), SK=SUBSCRIPTION_SK)


def get_subscription(user_id: str, *, consistent: bool = True) -> Subscription | None:
    try:
        return Subscription.get(user_pk(user_id), SUBSCRIPTION_SK, consistent_read=consistent)
    except DoesNotExist:
        return None


def customer_link(customer_id: str, user_id: str) -> CustomerLink:
    return CustomerLink(PK=f"STRIPECUST#{customer_id}", SK="CUSTOMER", user_id=user_id)


def user_of_customer(customer_id: str) -> str | None:
    try:
        return str(CustomerLink.get(f"STRIPECUST#{customer_id}", "CUSTOMER", consistent_read=True).user_id)
    except DoesNotExist:
        return None


def processed_event(event_id: str, event_type: str, now: int) -> ProcessedEvent:
    return ProcessedEvent(PK=f"STRIPEEVT#{event_id}", SK="EVENT", event_type=event_type, expires_at=now + EVENT_TTL_SEC)


class LocalCheckout(TableItem, discriminator="LocalCheckout"):
    """A checkout the local provider started (local stack and tests only): its page completes it."""

    user_id = UnicodeAttribute()
    plan = UnicodeAttribute()


def local_checkout(token: str, user_id: str, plan: str, expires_at: int) -> LocalCheckout:
    return LocalCheckout(PK=f"LOCALCHECKOUT#{token}", SK="CHECKOUT", user_id=user_id, plan=plan, expires_at=expires_at)


def take_local_checkout(token: str) -> LocalCheckout | None:
    """Once: read, then deleted on condition that it is still there (a second visit finds nothing)."""
    try:
        item = LocalCheckout.get(f"LOCALCHECKOUT#{token}", "CHECKOUT", consistent_read=True)
    except DoesNotExist:
        return None
    try:
        item.delete(condition=LocalCheckout.PK.exists())
    except DeleteError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return item
