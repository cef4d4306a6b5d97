"""The cohort's statistics: shares, median time, percentile and the item analysis, checked against
values computed by hand and against the standard library's correlation."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.cohort.data import LedgerEntry, ledger_entry, ledgered
from chalicelib.cohort.rules import (
    MIN_EXAM_ANSWERS,
    REST_SCALE,
    TIME_EDGES,
    Contribution,
    QuestionCounts,
    QuestionTally,
    analyse,
    by_ledger,
    median_seconds,
    percentile,
    point_biserial,
    rest_score,
    run_id,
    summarise,
    tally,
    time_bucket,
)


def counts_of(tally: QuestionTally) -> QuestionCounts:
    return QuestionCounts(
        answered=tally.answered,
        correct=tally.correct,
        picks=dict(tally.picks),
        times=dict(tally.times),
        exam_answered=tally.exam_answered,
        exam_correct=tally.exam_correct,
        rest_sum=tally.rest_sum,
        rest_squares=tally.rest_squares,
        rest_sum_correct=tally.rest_sum_correct,
        exam_picks=dict(tally.exam_picks),
        rest_sum_by_pick=dict(tally.rest_sum_by_pick),
    )


def exam_tally(rows: list[tuple[str, bool, float]]) -> QuestionTally:
    """(chosen option, correct, rest score 0-1) per exam answer."""
    tally = QuestionTally()
    for option, correct, rest in rows:
        tally.add(correct=correct, selected=[option], seconds=40, rest=round(rest * REST_SCALE))
    return tally


# --- shares and times ------------------------------------------------------------------------------


def test_option_shares_and_percent_correct_by_hand():
    tally = QuestionTally()
    for option, correct in [("a", True), ("a", True), ("b", False), ("c", False)]:
        tally.add(correct=correct, selected=[option], seconds=30, rest=None)
    summary = summarise(counts_of(tally), ["a", "b", "c", "d"])
    assert summary.answered == 4
    assert summary.percent_correct == 50.0
    assert [(o.option_id, o.percent) for o in summary.options] == [("a", 50.0), ("b", 25.0), ("c", 25.0), ("d", 0.0)]


def test_nobody_has_answered():
    summary = summarise(QuestionCounts(), ["a", "b"])
    assert (summary.answered, summary.percent_correct, summary.median_time_sec) == (0, 0.0, None)
    assert [o.percent for o in summary.options] == [0.0, 0.0]


def test_median_by_hand():
    # 4 answers of 12 s, 14 s (bucket 10-20), 25 s (20-30) and 200 s (180-240): the median (2 of 4)
    # is the end of the 10-20 bucket.
    buckets = {time_bucket(s): 0 for s in (12, 25, 200)}
    for seconds in (12, 14, 25, 200):
        buckets[time_bucket(seconds)] += 1
    assert median_seconds(buckets) == 20
    # one answer of 35 s: halfway through the 30-40 bucket
    assert median_seconds({time_bucket(35): 1}) == 35
    # in the open last bucket the lower edge is all that is known
    assert median_seconds({time_bucket(5000): 3}) == TIME_EDGES[-1]


@given(st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=60))
def test_the_median_lies_in_the_bucket_of_the_true_median(times):
    buckets: dict[int, int] = {}
    for seconds in times:
        buckets[time_bucket(seconds)] = buckets.get(time_bucket(seconds), 0) + 1
    found = median_seconds(buckets)
    ordered = sorted(times)
    low, high = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
    edges = (0, *TIME_EDGES)
    assert found is not None
    assert edges[max(0, time_bucket(low) - 1)] <= found
    assert found <= (TIME_EDGES[time_bucket(high)] if time_bucket(high) < len(TIME_EDGES) else high)


# --- percentile ----------------------------------------------------------------------------------


def test_percentile_by_hand():
    distribution = {40: 1, 55: 2, 70: 1}  # four sittings
    assert percentile(distribution, 70.0) == 87.5  # 3 below, half of 1 equal
    assert percentile(distribution, 55.4) == 50.0  # 1 below, half of 2 equal
    assert percentile(distribution, 30.0) == 0.0
    assert percentile({}, 50.0) is None


@given(st.dictionaries(st.integers(0, 100), st.integers(1, 20), min_size=1), st.floats(0, 100), st.floats(0, 100))
def test_a_higher_score_never_stands_lower(distribution, a, b):
    low, high = sorted((a, b))
    found_low, found_high = percentile(distribution, low), percentile(distribution, high)
    assert found_low is not None and found_high is not None
    assert 0 <= found_low <= found_high <= 100


# --- item analysis -------------------------------------------------------------------------------


def test_rest_score_leaves_the_item_out():
    assert rest_score(paper_correct=7, paper_size=11, item_correct=True) == 6000  # 6 of the other 10
    assert rest_score(paper_correct=7, paper_size=11, item_correct=False) == 7000
    assert rest_score(paper_correct=1, paper_size=1, item_correct=True) == 0


def test_point_biserial_by_hand():
    # x = 1,1,0,1,0 and rest = .8,.6,.4,.9,.3: mean .6, M1 = 2.3/3, s = sqrt(.052), p = .6
    # r = (.766667 - .6) / .228035 * sqrt(.6/.4) = 0.8951
    tally = exam_tally([("a", True, 0.8), ("a", True, 0.6), ("b", False, 0.4), ("a", True, 0.9), ("c", False, 0.3)])
    counts = counts_of(tally)
    r = point_biserial(counts, counts.exam_correct, counts.rest_sum_correct)
    assert r == pytest.approx(0.8951, abs=1e-4)
    assert r == pytest.approx(statistics.correlation([1, 1, 0, 1, 0], [0.8, 0.6, 0.4, 0.9, 0.3]))


@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.integers(0, 1000)),
        min_size=3,
        max_size=80,
    )
)
def test_every_options_correlation_matches_the_standard_library(rows):
    """From sums only, the same Pearson correlation as computed from every answer."""
    tally = exam_tally([(option, option == "a", rest / 1000) for option, rest in rows])
    counts = counts_of(tally)
    rests = [rest / 1000 for _, rest in rows]
    for option in "abcd":
        chosen = [1 if o == option else 0 for o, _ in rows]
        found = point_biserial(counts, sum(chosen), counts.rest_sum_by_pick.get(option, 0))
        if found is None:
            assert len(set(chosen)) == 1 or len(set(rests)) == 1
        else:
            assert found == pytest.approx(statistics.correlation(chosen, rests), abs=1e-6)


def _rows(n: int, key_strong: bool) -> list[tuple[str, bool, float]]:
    """n answers: the stronger half chose `a` (the key when key_strong), the weaker half `b`."""
    rows = []
    for i in range(n):
        strong = i % 2 == 0
        rest = 0.8 if strong else 0.4
        option = "a" if strong else "b"
        rows.append((option, (option == "a") == key_strong, rest))
    return rows


def test_no_analysis_below_the_minimum_answers():
    assert analyse(counts_of(exam_tally(_rows(MIN_EXAM_ANSWERS - 1, True))), ["a"]) is None
    assert analyse(counts_of(exam_tally(_rows(MIN_EXAM_ANSWERS, True))), ["a"]) is not None


def test_a_good_item_is_not_flagged():
    found = analyse(counts_of(exam_tally(_rows(40, key_strong=True))), ["a"])
    assert found is not None
    assert (found.difficulty, found.flags) == (0.5, [])
    assert found.discrimination == 1.0


def test_a_wrong_key_shows_as_negative_discrimination_and_a_strong_distractor():
    """Strong learners choose b; the key says a: b is probably the right answer."""
    found = analyse(counts_of(exam_tally(_rows(40, key_strong=False))), ["b"])
    assert found is not None
    assert found.discrimination == -1.0
    assert found.distractors == {"a": 1.0}
    assert found.flags == ["negative_discrimination", "distractor_attracts_strong"]


def test_too_hard_and_too_easy():
    easy = exam_tally([("a", True, 0.5)] * 39 + [("b", False, 0.5)])
    hard = exam_tally([("a", True, 0.5)] * 5 + [("b", False, 0.5)] * 35)
    found_easy, found_hard = analyse(counts_of(easy), ["a"]), analyse(counts_of(hard), ["a"])
    assert found_easy is not None and "too_easy" in found_easy.flags
    assert found_hard is not None and "too_hard" in found_hard.flags


# --- the ledger ------------------------------------------------------------------------------------

contributions = st.lists(
    st.builds(
        Contribution,
        question_id=st.sampled_from([f"q{n}" for n in range(5)]),
        correct=st.booleans(),
        selected=st.lists(st.sampled_from("abcde"), min_size=1, max_size=2, unique=True).map(tuple),
        seconds=st.integers(0, 900),
        rest=st.none() | st.integers(0, REST_SCALE),
    ),
    max_size=40,
)


@given(contributions, st.integers(0, 40))
def test_tallies_of_a_split_add_up_to_the_tallies_of_the_whole(answers, cut):
    """What the roll-up relies on: summing entries then questions equals summing the answers."""
    whole, left, right = tally(answers), tally(answers[:cut]), tally(answers[cut:])
    for question_id, combined in whole.items():
        parts = [t[question_id] for t in (left, right) if question_id in t]
        assert combined.answered == sum(p.answered for p in parts)
        assert combined.correct == sum(p.correct for p in parts)
        assert combined.picks == sum((p.picks for p in parts), Counter())
        assert combined.times == sum((p.times for p in parts), Counter())
        assert combined.rest_sum == sum(p.rest_sum for p in parts)
        assert combined.rest_squares == sum(p.rest_squares for p in parts)
    assert set(whole) == set(left) | set(right)


@pytest.mark.parametrize(
    ("questions", "entry_bytes", "ledger"),
    [
        (1, 200, False),  # a single answer: 2 WCU in the transaction, 4 through the ledger
        (3, 300, False),  # 6 WCU either way: stay in the transaction
        (4, 300, True),  # 8 WCU in the transaction, 7 through the ledger
        (20, 900, True),  # a practice batch: 40 against 23
        (180, 5_000, True),  # a whole paper (5 KB entry): 360 against 195
        (5, 2_100, False),  # a large entry for few questions (3 KB): 10 against 14
    ],
)
def test_the_ledger_is_taken_only_where_it_costs_less(questions, entry_bytes, ledger):
    assert by_ledger(questions, entry_bytes) is ledger


@given(st.integers(1, 500), st.integers(1, 400_000))
def test_the_ledger_never_costs_more_than_the_transaction(questions, entry_bytes):
    kb = -(-entry_bytes // 1024)
    through_ledger, in_transaction = 3 * kb + questions, 2 * questions
    assert by_ledger(questions, entry_bytes) == (through_ledger < in_transaction)


@given(st.integers(0, 2**45), st.integers(0, 2**45))
def test_run_numbers_only_ever_increase(now_ms, last_run):
    assert run_id(now_ms, last_run) > last_run
    assert run_id(now_ms, last_run) >= now_ms


@given(contributions, st.booleans())
def test_a_ledger_entry_reads_back_as_written(answers, with_sitting):
    sitting = (
        {"template_id": "t", "score_percent": 62.5, "sitting": "s1", "paper": ("q9", "q0")} if with_sitting else {}
    )
    entry = ledger_entry("learner", "practice:s1:4", answers, **sitting)  # type: ignore[arg-type]
    read = ledgered(LedgerEntry.from_raw_data(entry.serialize()))
    assert read.contributions == answers
    assert read.key == (entry.PK, entry.SK)
    if with_sitting:
        assert (read.template_id, read.score_percent, read.sitting) == ("t", 62.5, "s1")
        assert set(read.paper) == {a.question_id for a in answers} | {"q9", "q0"}
    else:
        assert (read.template_id, read.sitting, read.paper) == (None, None, ())
