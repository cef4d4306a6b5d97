"""A plan to exam day: pure rules (no I/O, no clock). Documented with its parameters in
docs/learning.md ("A plan to exam day").

Each day: the reviews due first (spaced review keeps what was learnt), then enough new questions to
have seen the whole published bank once before the exam date, within the learner's daily time
budget at their own pace. New questions are shared out across categories by what is left of each,
tilted towards the categories the exam weighs most (the blueprint) and those the learner is weakest
in. When the budget cannot hold what is needed, the plan says by how much the learner is behind."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

DEFAULT_SECONDS_PER_QUESTION = 60  # until the learner has answered enough to measure their pace
MIN_SECONDS_PER_QUESTION = 15  # a pace faster than this is clicking through, not studying
MIN_ANSWERS_FOR_PACE = 20  # answers in the recent window before their pace replaces the default
MIN_ANSWERS_FOR_ACCURACY = 10  # answers in a category before its accuracy tilts the share
UNKNOWN_ACCURACY = 0.5  # a category with fewer answers counts as half right


@dataclass(frozen=True)
class CategoryState:
    slug: str
    published: int  # published questions in the bank
    seen: int  # distinct questions the learner has answered
    answered: int
    correct: int
    blueprint_weight: float  # its share of the exam relative to an even share (1 even, 0 not examined)


@dataclass(frozen=True)
class PlanInput:
    today: date
    exam_date: date
    daily_minutes: int
    recent_answers: int  # answers in the recent window, and their time
    recent_answer_sec: int
    reviews_due: int  # due now and still allowed today
    reviews_done_today: int
    new_done_today: int
    categories: Sequence[CategoryState]


@dataclass(frozen=True)
class Plan:
    days_left: int  # study days before the exam, today included
    seconds_per_question: int
    budget_questions: int  # what the daily minutes hold at that pace
    reviews_today: int
    new_today: int  # today's target of new questions (done ones included)
    new_remaining_today: int
    new_by_category: dict[str, int]  # what is left of today's new questions, per category
    unseen: int
    required_new_per_day: int
    on_track: bool
    shortfall_questions: int  # unseen questions the exam date arrives before, at this pace
    extra_minutes_per_day: int  # what would put the learner back on track


def seconds_per_question(answers: int, seconds: int) -> int:
    if answers < MIN_ANSWERS_FOR_PACE:
        return DEFAULT_SECONDS_PER_QUESTION
    return max(MIN_SECONDS_PER_QUESTION, round(seconds / answers))


def accuracy(category: CategoryState) -> float:
    if category.answered < MIN_ANSWERS_FOR_ACCURACY:
        return UNKNOWN_ACCURACY
    return min(1.0, max(0.0, category.correct / category.answered))


def weight(category: CategoryState) -> float:
    """How strongly new questions are drawn to a category, per unseen question: the exam's weight
    (1 + its blueprint weight) times the learner's weakness (1 + error rate)."""
    return (1 + category.blueprint_weight) * (2 - accuracy(category))


def share_out(total: int, categories: Sequence[CategoryState]) -> dict[str, int]:
    """`total` new questions across categories in proportion to unseen x weight, never more than a
    category has unseen (largest remainder; ties by slug)."""
    left = {c.slug: max(0, c.published - c.seen) for c in categories}
    total = min(total, sum(left.values()))
    shares: dict[str, int] = dict.fromkeys(left, 0)
    while total > 0:
        open_ = [c for c in categories if left[c.slug] - shares[c.slug] > 0]
        scores = {c.slug: (left[c.slug] - shares[c.slug]) * weight(c) for c in open_}
        whole = sum(scores.values())
        exact = {slug: total * score / whole for slug, score in scores.items()}
        given = {slug: min(math.floor(value), left[slug] - shares[slug]) for slug, value in exact.items()}
        if sum(given.values()) == 0:  # hand out one at a time by the largest remainder
            slug = max(exact, key=lambda s: (exact[s] - math.floor(exact[s]), scores[s], s))
            given = {slug: 1}
        for slug, count in given.items():
            shares[slug] += count
            total -= count
    return {slug: count for slug, count in sorted(shares.items()) if count}


def plan_for(data: PlanInput) -> Plan:
    days_left = max(0, (data.exam_date - data.today).days)
    pace = seconds_per_question(data.recent_answers, data.recent_answer_sec)
    budget = data.daily_minutes * 60 // pace
    unseen = sum(max(0, c.published - c.seen) for c in data.categories)
    reviews_today = min(data.reviews_due + data.reviews_done_today, budget)
    capacity = max(0, budget - reviews_today)
    # what is unseen now, plus today's new ones already done, spread over the days left (today too)
    to_cover = unseen + data.new_done_today
    required = math.ceil(to_cover / days_left) if days_left else 0
    new_today = min(required, capacity)
    shortfall = max(0, to_cover - capacity * days_left) if days_left else unseen
    extra_questions = max(0, required - capacity)
    remaining = max(0, new_today - data.new_done_today)
    return Plan(
        days_left=days_left,
        seconds_per_question=pace,
        budget_questions=budget,
        reviews_today=reviews_today,
        new_today=new_today,
        new_remaining_today=remaining,
        new_by_category=share_out(remaining, data.categories),
        unseen=unseen,
        required_new_per_day=required,
        on_track=shortfall == 0,
        shortfall_questions=shortfall,
        extra_minutes_per_day=math.ceil(extra_questions * pace / 60),
    )


def blueprint_weights(blueprints: Sequence[Mapping[str, int]], categories: Sequence[str]) -> dict[str, float]:
    """Each category's share of the exam's questions (every active blueprint summed) relative to
    an even share over `categories`: 1.0 even, 2.0 twice that, 0 not examined. No blueprint at all:
    every category even."""
    totals = dict.fromkeys(categories, 0)
    for blueprint in blueprints:
        for slug, count in blueprint.items():
            if slug in totals:
                totals[slug] += max(0, int(count))
    whole = sum(totals.values())
    if not whole:
        return dict.fromkeys(categories, 1.0)
    return {slug: count * len(totals) / whole for slug, count in totals.items()}
