"""Spaced-review rules: the rating an answer earns, and a card's schedule from its reviews."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.review.rules import (
    AGAIN,
    EASY,
    GOOD,
    HARD,
    Review,
    done_days,
    forecast,
    rating_for,
    recall_probability,
    review_of,
    schedule,
)

confidences = st.sampled_from([None, "guess", "unsure", "sure"])
times = st.floats(0, 600, allow_nan=False)
medians = st.one_of(st.none(), st.floats(5, 300, allow_nan=False))
START = datetime(2026, 11, 1, 9, tzinfo=UTC)


@given(times, medians, confidences)
def test_a_wrong_answer_is_always_again(seconds, median, confidence):
    assert rating_for(False, seconds, median, confidence) == AGAIN


@given(times, medians)
def test_a_guess_is_never_better_than_hard(seconds, median):
    assert rating_for(True, seconds, median, "guess") in (AGAIN, HARD)


@given(times, times, medians, confidences)
def test_more_time_never_earns_a_better_rating(fast, slow, median, confidence):
    fast, slow = min(fast, slow), max(fast, slow)
    assert rating_for(True, slow, median, confidence) <= rating_for(True, fast, median, confidence)


@given(medians, confidences)
def test_only_a_fast_sure_answer_is_easy(median, confidence):
    quick = 0.4 * (median or 60)
    assert (rating_for(True, quick, median, confidence) == EASY) == (confidence == "sure")


def test_the_documented_table():
    assert rating_for(True, 30, 60, None) == GOOD
    assert rating_for(True, 100, 60, None) == HARD  # slow: over 1.5 x the median
    assert rating_for(True, 30, 60, "unsure") == HARD
    assert rating_for(True, 100, 60, "guess") == AGAIN
    assert rating_for(True, 29, 60, "sure") == EASY
    assert rating_for(True, 31, 60, "sure") == GOOD


reviews = st.lists(
    st.builds(
        lambda day, minute, rating, source: review_of(
            source, START + timedelta(days=day, minutes=minute), rating, rating != AGAIN
        ),
        st.integers(0, 200),
        st.integers(0, 1000),
        st.sampled_from([AGAIN, HARD, GOOD, EASY]),
        st.text(alphabet="abcdefghij:0123456789", min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=12,
)


@given(reviews, st.randoms())
def test_a_card_is_the_same_whatever_order_or_duplicates_its_reviews_arrive_in(found, rng):
    shuffled = list(found) + rng.sample(found, len(found) // 2)
    rng.shuffle(shuffled)
    assert schedule(shuffled, 0.9) == schedule(found, 0.9)


@given(reviews)
def test_a_card_falls_due_after_its_last_review(found):
    card = schedule(found, None)
    assert card is not None
    assert card.due > card.last_review == max(datetime.fromtimestamp(r.at_ms / 1000, UTC) for r in found)


@given(reviews)
def test_wanting_more_recall_never_schedules_later(found):
    strict, relaxed = schedule(found, 0.97), schedule(found, 0.80)
    assert strict is not None and relaxed is not None
    assert strict.due <= relaxed.due


def test_recall_fades_with_time_and_is_one_at_the_review():
    assert recall_probability(10.0, START, START) == 1.0
    week, month = (
        recall_probability(10.0, START, START + timedelta(days=7)),
        recall_probability(10.0, START, START + timedelta(days=30)),
    )
    assert 1.0 > week > month > 0.0


def test_new_reviews_count_on_their_days_first_answers_apart():
    found = sorted(Review(int((START + timedelta(days=d)).timestamp() * 1000), "x", GOOD, True) for d in (0, 3))

    def day_of(at_ms: int) -> str:
        return datetime.fromtimestamp(at_ms / 1000, UTC).date().isoformat()

    assert done_days([], found[:1], day_of) == {("2026-11-01", "introduced")}
    assert done_days(found[:1], found, day_of) == {("2026-11-04", "reviewed")}
    assert done_days(found, found, day_of) == set()  # a redelivered answer counts nothing


def test_the_forecast_counts_overdue_cards_today_and_stops_after_thirty_days():
    today = date(2026, 11, 24)
    days = [date(2026, 11, 20), today, date(2026, 11, 25), date(2027, 1, 30)]
    counts = dict(forecast(days, today))
    assert len(counts) == 30 and counts[today] == 2 and counts[date(2026, 11, 25)] == 1
    assert sum(counts.values()) == 3
