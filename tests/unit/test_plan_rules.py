"""The plan to exam day: a worked example by hand, and properties of the rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.plan.rules import (
    DEFAULT_SECONDS_PER_QUESTION,
    CategoryState,
    PlanInput,
    blueprint_weights,
    plan_for,
    seconds_per_question,
    share_out,
)

TODAY = date(2026, 12, 1)
ANATOMY = CategoryState("anatomy", published=200, seen=50, answered=60, correct=30, blueprint_weight=1.0)
PHYSIOLOGY = CategoryState("physiology", published=100, seen=0, answered=0, correct=0, blueprint_weight=1.0)


def inputs(**overrides: object) -> PlanInput:
    base = PlanInput(
        today=TODAY,
        exam_date=TODAY + timedelta(days=10),
        daily_minutes=30,
        recent_answers=40,
        recent_answer_sec=2400,  # 60 s a question
        reviews_due=5,
        reviews_done_today=0,
        new_done_today=0,
        categories=[ANATOMY, PHYSIOLOGY],
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_on_track_by_hand():
    # 30 min at 60 s = 30 questions; 5 reviews leave 25; 250 unseen over 10 days = 25 a day.
    plan = plan_for(inputs())
    assert (plan.days_left, plan.budget_questions, plan.reviews_today) == (10, 30, 5)
    assert (plan.unseen, plan.required_new_per_day, plan.new_today) == (250, 25, 25)
    assert plan.on_track and plan.shortfall_questions == 0 and plan.extra_minutes_per_day == 0
    # both categories weigh the same (half right, even in the exam): 150 and 100 unseen share 25
    assert plan.new_by_category == {"anatomy": 15, "physiology": 10}


def test_behind_by_hand():
    # 20 min: 20 questions, 15 after the reviews; 10 days x 15 = 150 of 250: 100 short, 10 more a day
    plan = plan_for(inputs(daily_minutes=20))
    assert plan.new_today == 15 and not plan.on_track
    assert plan.shortfall_questions == 100
    assert plan.extra_minutes_per_day == 10


def test_new_questions_done_today_count_towards_today():
    plan = plan_for(inputs(new_done_today=10, categories=[replace(ANATOMY, seen=60), PHYSIOLOGY]))
    assert (plan.new_today, plan.new_remaining_today) == (25, 15)  # the target stays 25 a day


def test_the_exam_and_weakness_tilt_the_share():
    weak = replace(PHYSIOLOGY, answered=20, correct=4)  # 20% right
    heavy = replace(ANATOMY, blueprint_weight=3.0)
    assert share_out(10, [replace(ANATOMY, seen=100), weak]) == {"anatomy": 4, "physiology": 6}
    assert share_out(10, [heavy, PHYSIOLOGY])["anatomy"] > 10 * 150 / 250


def test_pace_defaults_until_measured_and_has_a_floor():
    assert seconds_per_question(5, 5) == DEFAULT_SECONDS_PER_QUESTION
    assert seconds_per_question(40, 40) == 15  # 1 s a question is clicking through
    assert seconds_per_question(40, 3600) == 90


def test_blueprint_weights_are_relative_to_an_even_share():
    weights = blueprint_weights(
        [{"anatomy": 60, "physiology": 30}, {"anatomy": 30}], ["anatomy", "physiology", "pathology"]
    )
    assert weights == {"anatomy": 2.25, "physiology": 0.75, "pathology": 0.0}
    assert blueprint_weights([], ["a", "b"]) == {"a": 1.0, "b": 1.0}


def test_exam_day_has_no_new_questions():
    plan = plan_for(inputs(exam_date=TODAY))
    assert plan.days_left == 0 and plan.new_today == 0 and plan.shortfall_questions == 250


categories = st.lists(
    st.builds(
        CategoryState,
        slug=st.sampled_from(["a", "b", "c", "d", "e"]),
        published=st.integers(0, 400),
        seen=st.integers(0, 400),
        answered=st.integers(0, 500),
        correct=st.integers(0, 500),
        blueprint_weight=st.floats(0, 4),
    ),
    max_size=5,
    unique_by=lambda c: c.slug,
)


@given(st.integers(0, 300), categories)
def test_share_out_hands_out_what_is_asked_never_more_than_is_unseen(total, found):
    shares = share_out(total, found)
    unseen = {c.slug: max(0, c.published - c.seen) for c in found}
    assert sum(shares.values()) == min(total, sum(unseen.values()))
    assert all(0 < count <= unseen[slug] for slug, count in shares.items())


@given(st.integers(10, 300), st.integers(10, 300), st.integers(0, 120), st.integers(0, 60), categories)
def test_more_minutes_never_put_the_learner_further_behind(low, high, days, reviews, found):
    low, high = sorted((low, high))
    base = inputs(exam_date=TODAY + timedelta(days=days), reviews_due=reviews, categories=found)
    less, more = plan_for(replace(base, daily_minutes=low)), plan_for(replace(base, daily_minutes=high))
    assert more.shortfall_questions <= less.shortfall_questions
    assert more.new_today >= less.new_today
    assert less.on_track == (less.shortfall_questions == 0)
    assert less.new_today <= less.budget_questions - less.reviews_today or less.new_today == 0
