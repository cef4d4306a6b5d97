"""How the cohort answered: pure rules (no I/O, no clock). The rules are documented, with their
parameters, in docs/learning.md ("Question statistics" and "Item analysis").

A question's statistics are counters that only ever grow by what answers add (exactly once: in the
transaction that applies a learner's answers, or through the ledger's roll-up; `by_ledger` says
which costs less), so everything
shown is derived here from sums: the share choosing each option, the % correct, the median time
from a histogram of answer times, and, from exam answers only, the sufficient statistics of the
item analysis (difficulty, point-biserial discrimination with the item left out of the total, and
each option's correlation with the rest score)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Upper edges (seconds) of the answer-time histogram; the last bucket is open. Finer where most
# answers fall (a single best answer takes 30-90 s), so the median is good to a few seconds there.
TIME_EDGES: tuple[int, ...] = (10, 20, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240, 300, 600)
REST_SCALE = 10_000  # a rest score is stored in ten-thousandths: integer sums stay exact (and r is scale-free)

# Item analysis: flagged only with enough exam answers to mean something, beyond these bounds.
MIN_EXAM_ANSWERS = 30
TOO_HARD_BELOW = 0.20  # difficulty index (share correct) below this: check the key and wording
TOO_EASY_ABOVE = 0.95  # above this: the question does not tell learners apart
POOR_DISCRIMINATION_BELOW = 0.15  # point-biserial (item excluded) below this
DISTRACTOR_DISCRIMINATION_ABOVE = 0.10  # a wrong option whose choosers are stronger than the rest
DISTRACTOR_MIN_SHARE = 0.05  # ... and chosen often enough for that to be more than noise


def time_bucket(seconds: int) -> int:
    """The histogram bucket of an answer time: bucket i holds [TIME_EDGES[i-1], TIME_EDGES[i])."""
    return bisect_right(TIME_EDGES, max(0, seconds))


def median_seconds(buckets: Mapping[int, int]) -> int | None:
    """The median answer time from the histogram, interpolated linearly inside its bucket (exact
    to the bucket's width; the open last bucket reports its lower edge)."""
    total = sum(count for count in buckets.values() if count > 0)
    if total == 0:
        return None
    half, seen = total / 2, 0
    for bucket in sorted(buckets):
        count = buckets[bucket]
        if count <= 0:
            continue
        if seen + count >= half:
            lower = TIME_EDGES[bucket - 1] if bucket > 0 else 0
            if bucket >= len(TIME_EDGES):
                return lower
            return round(lower + (half - seen) / count * (TIME_EDGES[bucket] - lower))
        seen += count
    return None  # unreachable: the loop reaches half


def rest_score(paper_correct: int, paper_size: int, item_correct: bool) -> int:
    """The learner's share correct on the rest of the paper, in ten-thousandths: the item itself is
    left out, so an item is not correlated with a total it is part of."""
    if paper_size < 2:
        return 0
    return round(REST_SCALE * (paper_correct - int(item_correct)) / (paper_size - 1))


def score_bin(score_percent: float) -> int:
    """An exam score's bin in a template's distribution: whole percents, 0-100."""
    return max(0, min(100, math.floor(score_percent + 1e-9)))


# --- what a batch adds ---------------------------------------------------------------------------


@dataclass
class QuestionTally:
    """What some answers add to one question's statistics."""

    answered: int = 0
    correct: int = 0
    picks: Counter[str] = field(default_factory=Counter)  # option id -> learners choosing it
    times: Counter[int] = field(default_factory=Counter)  # histogram bucket -> answers
    exam_answered: int = 0
    exam_correct: int = 0
    rest_sum: int = 0
    rest_squares: int = 0
    rest_sum_correct: int = 0
    exam_picks: Counter[str] = field(default_factory=Counter)
    rest_sum_by_pick: dict[str, int] = field(default_factory=dict)

    def add(self, *, correct: bool, selected: Sequence[str], seconds: int, rest: int | None) -> None:
        self.answered += 1
        self.correct += int(correct)
        self.picks.update(set(selected))
        self.times[time_bucket(seconds)] += 1
        if rest is None:
            return
        self.exam_answered += 1
        self.exam_correct += int(correct)
        self.rest_sum += rest
        self.rest_squares += rest * rest
        if correct:
            self.rest_sum_correct += rest
        for option in set(selected):
            self.exam_picks[option] += 1
            self.rest_sum_by_pick[option] = self.rest_sum_by_pick.get(option, 0) + rest


@dataclass(frozen=True)
class Contribution:
    """One answer as the cohort's statistics count it (a ledger entry holds a list of them)."""

    question_id: str
    correct: bool
    selected: tuple[str, ...]
    seconds: int
    rest: int | None = None  # exam answers: the rest score (ten-thousandths); None for practice


def tally(contributions: Iterable[Contribution]) -> dict[str, QuestionTally]:
    """What some answers add, per question."""
    tallies: dict[str, QuestionTally] = {}
    for c in contributions:
        tallies.setdefault(c.question_id, QuestionTally()).add(
            correct=c.correct, selected=c.selected, seconds=c.seconds, rest=c.rest
        )
    return tallies


# --- the ledger: statistics added by the roll-up instead of the learner's transaction ------------

# What one roll-up run takes from the ledger (its manifest must stay a small item) and how long a
# run may hold the lease before another invocation takes the run over (a crashed run resumes).
# The job's Lambda times out (110 s, .chalice/config.json) before its lease ends, so a live run is
# not normally taken over; if one were, the statistics' conditions still add each sum once.
RUN_ENTRIES = 100
LEASE_MS = 120_000


def by_ledger(distinct_questions: int, entry_bytes: int) -> bool:
    """Whether a chunk's statistics cost less through a ledger entry than as updates in its own
    transaction. In the transaction: 2 WCU per question (a transactional write costs double).
    Through the ledger: the entry, written in the transaction (2 WCU per KB) and deleted after its
    roll-up (1 WCU per KB), plus at most 1 WCU per question in the roll-up (less when other learners
    answered it in the same run). So a learner's single answer goes straight in, a batch of
    answers (or a whole exam) through the ledger."""
    kb = max(1, math.ceil(entry_bytes / 1024))
    return 3 * kb + distinct_questions < 2 * distinct_questions


def run_id(now_ms: int, last_run: int) -> int:
    """Roll-up runs are numbered by time and strictly increasing: a question's statistics take a
    run's additions only if their `rolled` mark is older, so the order must be total."""
    return max(now_ms, last_run + 1)


# --- what is shown -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionCounts:
    """A question's stored counters (what the pipeline added up)."""

    answered: int = 0
    correct: int = 0
    picks: Mapping[str, int] = field(default_factory=dict)
    times: Mapping[int, int] = field(default_factory=dict)
    exam_answered: int = 0
    exam_correct: int = 0
    rest_sum: int = 0
    rest_squares: int = 0
    rest_sum_correct: int = 0
    exam_picks: Mapping[str, int] = field(default_factory=dict)
    rest_sum_by_pick: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class OptionShare:
    option_id: str
    percent: float


@dataclass(frozen=True)
class QuestionSummary:
    answered: int
    percent_correct: float
    options: list[OptionShare]
    median_time_sec: int | None


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def summarise(counts: QuestionCounts, option_ids: Sequence[str]) -> QuestionSummary:
    """What a learner sees after answering, for the question's options as they are now (an option
    added since has 0%; a removed one is not shown). Shares are of answers, so with several correct
    options they may add up to more than 100."""
    return QuestionSummary(
        answered=counts.answered,
        percent_correct=percent(counts.correct, counts.answered),
        options=[OptionShare(o, percent(counts.picks.get(o, 0), counts.answered)) for o in option_ids],
        median_time_sec=median_seconds(counts.times),
    )


def percentile(distribution: Mapping[int, int], score_percent: float) -> float | None:
    """Where a score stands among everyone's (mid-rank: those below, plus half of those in the
    same whole percent), 0-100. None before anyone has sat the template."""
    total = sum(distribution.values())
    if total == 0:
        return None
    own = score_bin(score_percent)
    below = sum(count for score, count in distribution.items() if score < own)
    return round(100 * (below + distribution.get(own, 0) / 2) / total, 1)


# --- item analysis ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemAnalysis:
    exam_answered: int
    difficulty: float  # share correct (the difficulty index: higher is easier)
    discrimination: float | None  # point-biserial with the rest score; None without variance
    distractors: dict[str, float]  # wrong option id -> its choosers' point-biserial with the rest score
    flags: list[str]


def point_biserial(counts: QuestionCounts, chosen: int, sum_chosen: int) -> float | None:
    """Pearson correlation, over a question's exam answers, between a 0/1 variable (1 for `chosen`
    of them, whose rest scores add up to `sum_chosen`) and the rest score, from sums only:
    (M1 - M) / s * sqrt(p / q), with s the population standard deviation."""
    n = counts.exam_answered
    if n < 2 or chosen in (0, n):
        return None
    mean = float(counts.rest_sum) / n
    variance = float(counts.rest_squares) / n - mean * mean
    if variance <= 1e-12:
        return None
    p = chosen / n
    mean_chosen = float(sum_chosen) / chosen
    return (mean_chosen - mean) / math.sqrt(variance) * math.sqrt(p / (1 - p))


def analyse(counts: QuestionCounts, correct_ids: Iterable[str]) -> ItemAnalysis | None:
    """The item analysis of a question from its exam answers; None below MIN_EXAM_ANSWERS."""
    n = counts.exam_answered
    if n < MIN_EXAM_ANSWERS:
        return None
    keyed = set(correct_ids)
    difficulty = counts.exam_correct / n
    discrimination = point_biserial(counts, counts.exam_correct, counts.rest_sum_correct)
    distractors = {}
    for option, chosen in sorted(counts.exam_picks.items()):
        if option in keyed:
            continue
        r = point_biserial(counts, chosen, counts.rest_sum_by_pick.get(option, 0))
        if r is not None:
            distractors[option] = round(r, 3)
    flags = []
    if difficulty < TOO_HARD_BELOW:
        flags.append("too_hard")
    if difficulty > TOO_EASY_ABOVE:
        flags.append("too_easy")
    if discrimination is not None and discrimination < POOR_DISCRIMINATION_BELOW:
        flags.append("negative_discrimination" if discrimination < 0 else "poor_discrimination")
    if any(
        r > DISTRACTOR_DISCRIMINATION_ABOVE and counts.exam_picks[o] / n >= DISTRACTOR_MIN_SHARE
        for o, r in distractors.items()
    ):
        flags.append("distractor_attracts_strong")
    return ItemAnalysis(
        exam_answered=n,
        difficulty=round(difficulty, 3),
        discrimination=None if discrimination is None else round(discrimination, 3),
        distractors=distractors,
        flags=flags,
    )
