"""Billing rules: the effective plan, the plan a refusal points to, the learner's day, forward-only state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.billing.rules import (
    FREE_PLAN,
    PlanTerms,
    SubscriptionState,
    cheapest_unlocking,
    day_window,
    effective_plan,
    grace_until,
)

NOW = 1_800_000_000
FREE = PlanTerms("free", frozenset(), 20, 0)
MONTHLY = PlanTerms("monthly", frozenset({"full_papers", "review_queue", "analytics"}), None, 2900)
YEARLY = PlanTerms("yearly", frozenset({"full_papers", "review_queue", "analytics"}), None, 19900)
REVIEW_ONLY = PlanTerms("review", frozenset({"review_queue"}), 50, 900)


def test_the_effective_plan():
    assert effective_plan(None, NOW) == FREE_PLAN
    assert effective_plan(SubscriptionState("monthly", "active"), NOW) == "monthly"
    assert effective_plan(SubscriptionState("monthly", "trialing"), NOW) == "monthly"
    assert effective_plan(SubscriptionState("monthly", "canceled"), NOW) == FREE_PLAN
    in_grace = SubscriptionState("monthly", "past_due", grace_until=NOW + 1)
    assert effective_plan(in_grace, NOW) == "monthly"
    assert effective_plan(in_grace, NOW + 1) == FREE_PLAN  # the grace ends on the second
    assert grace_until(NOW, 7) == NOW + 7 * 86400


def test_a_refusal_points_to_the_cheapest_plan_that_unlocks_it():
    plans = [FREE, YEARLY, MONTHLY, REVIEW_ONLY]
    assert cheapest_unlocking(plans, "review_queue") == "review"
    assert cheapest_unlocking(plans, "full_papers") == "monthly"
    assert cheapest_unlocking(plans, None) == "monthly"  # no daily limit
    assert cheapest_unlocking([FREE], "analytics") is None


def test_the_learners_day():
    start, end = day_window(datetime(2026, 12, 1, 10, 30, tzinfo=UTC), "Pacific/Auckland")  # 23:30 there
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    assert end - start == 86400


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["UTC", "Europe/London", "Pacific/Auckland", "America/St_Johns", "Asia/Kathmandu"]),
)
def test_the_day_holds_now_and_lasts_23_to_25_hours(moment, zone):
    now = moment.replace(tzinfo=UTC)
    start, end = day_window(now, zone)
    assert start <= now.timestamp() < end
    assert timedelta(hours=23) <= timedelta(seconds=end - start) <= timedelta(hours=25)
