"""Billing rules: pure (no I/O, no clock read). Documented in docs/billing.md.

Entitlements: a learner's effective plan is their subscription's plan while it is active (or in its
grace period after a failed payment), else the free plan; what a plan unlocks is data (its features
and its daily question allowance). Subscription state moves only forward: an event older than the
one that last changed it changes nothing, so Stripe's retries and out-of-order deliveries converge
(enforced where it must be atomic, in the subscription write's condition: billing.service._apply)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FREE_PLAN = "free"
LIVE_STATUSES = ("active", "trialing")
GRACE_STATUS = "past_due"


@dataclass(frozen=True)
class PlanTerms:
    code: str
    features: frozenset[str]
    daily_questions: int | None  # None: unlimited
    price_pence: int
    active: bool = True


@dataclass(frozen=True)
class SubscriptionState:
    plan: str
    status: str  # active | trialing | past_due | canceled | incomplete
    current_period_end: int | None = None  # epoch seconds
    cancel_at_period_end: bool = False
    grace_until: int | None = None  # epoch seconds, after a failed payment
    version: int = 0  # the Stripe event time that last moved it


def effective_plan(state: SubscriptionState | None, now: int) -> str:
    if state is None:
        return FREE_PLAN
    if state.status in LIVE_STATUSES:
        return state.plan
    if state.status == GRACE_STATUS and state.grace_until is not None and now < state.grace_until:
        return state.plan
    return FREE_PLAN


def unlocks(plan: PlanTerms | None, feature: str) -> bool:
    return plan is not None and feature in plan.features


def cheapest_unlocking(plans: Sequence[PlanTerms], feature: str | None) -> str | None:
    """The plan a refusal points to: the cheapest active plan with the feature (or, for the daily
    allowance, without a limit)."""
    fitting = [
        p for p in plans if p.active and (feature in p.features if feature is not None else p.daily_questions is None)
    ]
    return min(fitting, key=lambda p: (p.price_pence, p.code)).code if fitting else None


def day_window(now: datetime, timezone: str) -> tuple[int, int]:
    """The learner's current calendar day as epoch seconds [start, end): the daily allowance's window."""
    zone = ZoneInfo(timezone)
    today: date = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), zone)
    end = datetime.combine(today + timedelta(days=1), time(0), zone)
    return int(start.timestamp()), int(end.timestamp())


def grace_until(event_time: int, grace_days: int) -> int:
    return event_time + grace_days * 86400
