"""Spaced-review rules: how an answer becomes an FSRS rating, and a card's schedule from its reviews.
Pure: no I/O, no clock (times are passed in). Explained with their parameters in docs/learning.md.

A card is a pure function of the set of its reviews, replayed in their total order (answer time,
then a stable tie-breaker). The stream consumer adds reviews to a set (idempotent, order-free) and
recomputes the card from it, so a redelivered, duplicated or reordered answer gives the same card."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from fsrs import Card, Rating, Scheduler, State

Confidence = Literal["guess", "unsure", "sure"]

DEFAULT_RETENTION = 0.92
MIN_RETENTION, MAX_RETENTION = 0.80, 0.97
DAILY_REVIEW_LIMIT = 100
DAILY_NEW_LIMIT = 20
# Without statistics of a question, the time an MRCS candidate has per question (about a minute).
DEFAULT_MEDIAN_SEC = 60
SLOW_FACTOR = 1.5  # slower than 1.5 x the median: the recall was effortful
FAST_FACTOR = 0.5  # within half the median: fluent
FORECAST_BACKLOG_DAYS = 7  # overdue cards counted on today's forecast (the queue shows them all)

AGAIN, HARD, GOOD, EASY = (int(Rating.Again), int(Rating.Hard), int(Rating.Good), int(Rating.Easy))


def rating_for(is_correct: bool, time_sec: float, median_sec: float | None, confidence: Confidence | None) -> int:
    """A multiple-choice answer as an FSRS rating (1 Again, 2 Hard, 3 Good, 4 Easy).

    wrong -> Again; right but guessed -> Hard, or Again when also slow; right but unsure, or slow
    -> Hard; right, within half the median time and sure -> Easy; otherwise right -> Good."""
    if not is_correct:
        return AGAIN
    median = median_sec if median_sec and median_sec > 0 else DEFAULT_MEDIAN_SEC
    slow = time_sec > SLOW_FACTOR * median
    if confidence == "guess":
        return AGAIN if slow else HARD
    if confidence == "unsure" or slow:
        return HARD
    if confidence == "sure" and time_sec <= FAST_FACTOR * median:
        return EASY
    return GOOD


@dataclass(frozen=True, order=True)
class Review:
    """One answer as the card sees it, ordered as the answer pipeline orders answers everywhere:
    by time (milliseconds), then by the answer's source (its session and position), so two answers
    in the same instant are always in the same order."""

    at_ms: int
    source: str
    rating: int
    correct: bool

    def encode(self) -> str:
        return f"{self.at_ms:013d}|{self.source}|{self.rating}|{int(self.correct)}"

    @classmethod
    def decode(cls, text: str) -> Review:
        at_ms, source, rating, correct = text.split("|")
        return cls(int(at_ms), source, int(rating), correct == "1")


def review_of(source: str, answered_at: datetime, rating: int, correct: bool) -> Review:
    return Review(int(answered_at.timestamp() * 1000), source, rating, correct)


@dataclass(frozen=True)
class Schedule:
    """A card's state after its reviews: when it is due, and what FSRS knows of it."""

    state: int  # fsrs State: 1 Learning, 2 Review, 3 Relearning
    step: int | None
    stability: float
    difficulty: float
    due: datetime
    last_review: datetime
    reviews: int


def _scheduler(retention: float) -> Scheduler:
    # No fuzz: fsrs draws it from the global random generator, and a card must be the same
    # whichever consumer run computes it. No learning steps: a question comes back after days, not
    # minutes (the learner has just read its explanation), so every card is scheduled in days.
    return Scheduler(
        desired_retention=clamp_retention(retention),
        learning_steps=(),
        relearning_steps=(),
        enable_fuzzing=False,
    )


def clamp_retention(retention: float | None) -> float:
    if retention is None:
        return DEFAULT_RETENTION
    return min(MAX_RETENTION, max(MIN_RETENTION, retention))


def schedule(reviews: Iterable[Review], retention: float | None) -> Schedule | None:
    """The card after replaying every review in order (None without reviews)."""
    ordered = sorted(set(reviews))
    if not ordered:
        return None
    scheduler = _scheduler(clamp_retention(retention))
    first = _instant(ordered[0].at_ms)
    card = Card(card_id=1, due=first)  # id and creation time given: Card() would read the clock
    for review in ordered:
        card, _ = scheduler.review_card(card, Rating(review.rating), review_datetime=_instant(review.at_ms))
    assert card.stability is not None
    assert card.difficulty is not None
    assert card.last_review is not None
    return Schedule(
        state=int(card.state),
        step=card.step,
        stability=round(card.stability, 6),
        difficulty=round(card.difficulty, 6),
        due=card.due,
        last_review=card.last_review,
        reviews=len(ordered),
    )


def recall_probability(stability: float, last_review: datetime, now: datetime) -> float:
    """FSRS retrievability: the predicted chance of recalling the answer now (0-1, 3 decimals). It
    depends on the card's stability and the time since its last review, not on the desired retention."""
    card = Card(card_id=1, state=State.Review, stability=stability, difficulty=5.0, due=now, last_review=last_review)
    return round(_scheduler(DEFAULT_RETENTION).get_card_retrievability(card, now), 3)


def _instant(at_ms: int) -> datetime:
    return datetime.fromtimestamp(at_ms / 1000, UTC)


def remaining_reviews(reviewed_today: int, limit: int) -> int:
    return max(0, limit - reviewed_today)


def forecast(due_days: Iterable[date], today: date, days: int = 30) -> list[tuple[date, int]]:
    """Cards due on each of the next `days` local days; anything overdue counts on today."""
    counts = dict.fromkeys((today + timedelta(days=n) for n in range(days)), 0)
    for day in due_days:
        key = max(day, today)
        if key in counts:
            counts[key] += 1
    return sorted(counts.items())


def done_days(before: list[Review], after: list[Review], day_of: Callable[[int], str]) -> set[tuple[str, str]]:
    """The (local day, kind) each review new in `after` (sorted) counts on: "introduced" for the
    card's first review, "reviewed" for any later one (the daily allowance counts the latter)."""
    first = after[0] if after else None
    new = set(after) - set(before)
    return {(day_of(review.at_ms), "introduced" if review == first else "reviewed") for review in new}


def decode_all(encoded: Iterable[str]) -> list[Review]:
    return sorted({Review.decode(text) for text in encoded})
