"""The answer-judging rules: set equality, admissible selections and percentages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.questions.rules import is_correct, score_percent, selection_problem

option_ids = st.lists(st.text(alphabet="abcdef", min_size=1, max_size=3), min_size=1, max_size=6, unique=True)


@given(option_ids, st.randoms())
def test_order_does_not_matter(correct, rng):
    shuffled = list(correct)
    rng.shuffle(shuffled)
    assert is_correct(shuffled, correct)


@given(option_ids, option_ids)
def test_correct_is_exact_set_equality(selected, correct):
    assert is_correct(selected, correct) == (set(selected) == set(correct))


@given(option_ids, st.text(alphabet="xyz", min_size=1, max_size=2))
def test_one_extra_or_one_missing_option_is_wrong(correct, extra):
    assert not is_correct([*correct, extra], correct)
    assert not is_correct(correct[:-1], correct) or len(correct) == 0


def test_an_empty_selection_is_never_correct():
    assert not is_correct([], [])
    assert not is_correct([], ["a"])


@given(st.integers(0, 10_000), st.data())
def test_percent_is_within_bounds_and_rounded(answered, data):
    correct = data.draw(st.integers(0, answered))
    percent = score_percent(answered, correct)
    assert 0.0 <= percent <= 100.0
    assert percent == round(percent, 2)
    assert score_percent(answered, answered) == (100.0 if answered else 0.0)


def test_percent_examples():
    assert score_percent(0, 0) == 0.0
    assert score_percent(3, 2) == 66.67
    assert score_percent(314, 245) == 78.03


class TestSelection:
    def test_valid_selections(self):
        assert selection_problem({"a", "b", "c"}, "single", ["a"]) is None
        assert selection_problem({"a", "b", "c"}, "multi", ["a", "c"]) is None

    def test_refusals_name_the_problem(self):
        too_many = selection_problem({"a", "b"}, "single", ["a", "b"])
        assert too_many is not None and too_many.kind == "too_many"
        twice = selection_problem({"a", "b"}, "multi", ["a", "a"])
        assert twice is not None and twice.kind == "duplicate_option"
        unknown = selection_problem({"a", "b"}, "multi", ["a", "z"])
        assert unknown is not None and unknown.kind == "unknown_option" and "z" in unknown.message
