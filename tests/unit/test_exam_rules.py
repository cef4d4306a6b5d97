"""Exam rules: the clock, scoring against a recomputation, and the category breakdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.exams import rules

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_deadline_stretches_with_extra_time():
    assert rules.deadline(START, 180, 0) == START + timedelta(hours=3)
    assert rules.deadline(START, 180, 25) == START + timedelta(hours=3, minutes=45)


def test_answers_are_accepted_until_the_grace_period_ends():
    deadline = START + timedelta(minutes=10)
    assert rules.accepts_answers(deadline + timedelta(seconds=rules.GRACE_SEC), deadline)
    assert not rules.accepts_answers(deadline + timedelta(seconds=rules.GRACE_SEC + 1), deadline)


def test_remaining_never_negative():
    deadline = START + timedelta(minutes=10)
    assert rules.remaining_sec(START, deadline) == 600
    assert rules.remaining_sec(deadline + timedelta(hours=1), deadline) == 0


@given(st.lists(st.integers(0, 4000), max_size=30), st.integers(0, 20_000), st.integers(1, 600))
def test_time_spent_is_the_sum_bounded_by_the_wall_clock(times, elapsed_sec, minutes):
    deadline = START + timedelta(minutes=minutes)
    now = START + timedelta(seconds=elapsed_sec)
    spent = rules.time_spent_sec(times, START, deadline, now)
    wall = min(elapsed_sec, minutes * 60)
    assert spent == min(sum(times), wall)
    assert 0 <= spent <= minutes * 60


question_ids = st.lists(st.text(alphabet="qrstuv", min_size=1, max_size=4), min_size=1, max_size=25, unique=True)


@st.composite
def papers(draw):
    qids = draw(question_ids)
    key = {q: draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=3, unique=True)) for q in qids}
    selected = {
        q: draw(st.lists(st.sampled_from("abcde"), max_size=3, unique=True)) for q in qids if draw(st.booleans())
    }
    return qids, key, selected


@given(papers())
def test_exam_score_equals_a_recomputation_from_the_answers(paper):
    qids, key, selected = paper
    scored = rules.score_exam(qids, selected, key)
    right = [q for q in qids if selected.get(q) and set(selected[q]) == set(key[q])]
    assert scored.correct == len(right)
    assert scored.answered == sum(1 for q in qids if selected.get(q))
    assert scored.total == len(qids)
    assert scored.score_percent == round(100 * len(right) / len(qids), 2)
    assert {q for q, r in scored.results.items() if r.is_correct} == set(right)


def test_unanswered_questions_count_against_the_whole_paper():
    scored = rules.score_exam(["q1", "q2", "q3", "q4"], {"q1": ["a"]}, {q: ["a"] for q in ["q1", "q2", "q3", "q4"]})
    assert (scored.correct, scored.answered, scored.score_percent) == (1, 1, 25.0)
    assert scored.passed(25.0) and not scored.passed(25.01)


@given(papers(), st.lists(st.sampled_from(["anatomy", "physiology", "pathology"]), min_size=25, max_size=25))
def test_breakdown_partitions_the_paper(paper, categories):
    qids, key, selected = paper
    scored = rules.score_exam(qids, selected, key)
    category_of = {q: categories[i] for i, q in enumerate(qids)}
    breakdown = rules.category_breakdown(qids, category_of, {q: r.is_correct for q, r in scored.results.items()})
    assert sum(c.total for c in breakdown) == len(qids)
    assert sum(c.correct for c in breakdown) == scored.correct
    assert [c.category for c in breakdown] == sorted({category_of[q] for q in qids})
