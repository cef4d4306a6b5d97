"""The dashboard's and analytics' rules: completion, suggestions, study-time windows and the
heatmap and trend series. Pure: inputs are plain values, `today` is passed in, nothing is read.

Settings that tune the rules (thresholds) arrive as a `Thresholds` value built by the service
from the validated settings, so a rule never reads the environment either."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.core.timeutil import week_start
from chalicelib.questions.rules import score_percent

RECENT_DAYS = 14
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Totals:
    """A learner's answered and correct counts for one category (or in all)."""

    answered: int = 0
    correct: int = 0

    @property
    def score_percent(self) -> float:
        return score_percent(self.answered, self.correct)


@dataclass(frozen=True)
class Thresholds:
    progress_min_answered: int = 10
    progress_min_score: float = 70.0
    suggest_min_attempts: int = 10
    suggest_low_score: float = 75.0
    suggest_max: int = 5


@dataclass(frozen=True)
class CategoryRef:
    slug: str
    name: str


# --- progress ------------------------------------------------------------------------------------


def is_completed(totals: Totals, rules: Thresholds) -> bool:
    """A category is completed with at least N answers at X% or better (docs/analytics.md)."""
    return totals.answered >= rules.progress_min_answered and totals.score_percent >= rules.progress_min_score


def completed_count(categories: Iterable[CategoryRef], totals: Mapping[str, Totals], rules: Thresholds) -> int:
    return sum(1 for c in categories if c.slug in totals and is_completed(totals[c.slug], rules))


def overall(totals: Mapping[str, Totals]) -> Totals:
    return Totals(sum(t.answered for t in totals.values()), sum(t.correct for t in totals.values()))


# --- suggestions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    category: str
    slug: str
    score_percent: float | None
    reason: str  # "Low Score" | "Not Started"

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "slug": self.slug,
            "score_percent": self.score_percent,
            "reason": self.reason,
        }


def suggestions(
    categories: Iterable[CategoryRef],
    totals: Mapping[str, Totals],
    dismissed: set[str],
    rules: Thresholds,
    exam_weights: Mapping[str, int] | None = None,
) -> list[Suggestion]:
    """Lowest-scoring categories with enough attempts and below the low-score line ("Low Score"),
    lowest first, then categories never answered ("Not Started") in taxonomy order, or, for a
    learner with an exam date (`exam_weights`: questions per category in the exam's blueprints), the
    ones the exam weighs most first, as the plan to exam day covers them; never a dismissed or a
    completed category; at most `suggest_max`. Ties break on the name, then slug."""
    low: list[Suggestion] = []
    not_started: list[Suggestion] = []
    for category in categories:
        if category.slug in dismissed:
            continue
        mine = totals.get(category.slug)
        if mine is None or mine.answered == 0:
            not_started.append(Suggestion(category.name, category.slug, None, "Not Started"))
        elif (
            mine.answered >= rules.suggest_min_attempts
            and mine.score_percent < rules.suggest_low_score
            and not is_completed(mine, rules)
        ):
            low.append(Suggestion(category.name, category.slug, mine.score_percent, "Low Score"))
    low.sort(key=lambda s: (s.score_percent or 0.0, s.category, s.slug))
    if exam_weights:  # stable: equal weights keep the taxonomy order
        not_started.sort(key=lambda s: -exam_weights.get(s.slug, 0))
    return (low + not_started)[: max(0, rules.suggest_max)]


# --- study-time windows --------------------------------------------------------------------------


def last_days(today: date, count: int) -> list[date]:
    """The `count` days ending today, oldest first: exactly `count` days, today included."""
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def recent_window(today: date) -> tuple[date, date]:
    """The first and last day the dashboard snapshot keeps: this week and last, and the last 14 days."""
    first = min(week_start(today) - timedelta(days=DAYS_PER_WEEK), today - timedelta(days=RECENT_DAYS - 1))
    return first, today


def seconds_between(daily_sec: Mapping[str, int], first: date, last: date) -> int:
    """Study seconds of the days from `first` to `last`, both included."""
    return sum(sec for day, sec in daily_sec.items() if first <= date.fromisoformat(day) <= last)


def hours(seconds: int) -> float:
    return round(seconds / 3600, 1)


@dataclass(frozen=True)
class WeekHours:
    hours_this_week: float
    delta_vs_last_week: float


def week_hours(daily_sec: Mapping[str, int], today: date) -> WeekHours:
    """This week so far (Monday to today) against the whole of last week, in hours."""
    monday = week_start(today)
    this_week = seconds_between(daily_sec, monday, today)
    last_week = seconds_between(daily_sec, monday - timedelta(days=DAYS_PER_WEEK), monday - timedelta(days=1))
    return WeekHours(hours(this_week), hours(this_week - last_week))


def hours_last_days(daily_sec: Mapping[str, int], today: date, count: int = RECENT_DAYS) -> float:
    days = last_days(today, count)
    return hours(seconds_between(daily_sec, days[0], days[-1]))


def days_ago(today: date, day: date) -> int:
    return (today - day).days


# --- series --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """One day of study as the daily-stat items record it."""

    answered: int = 0
    correct: int = 0
    seconds: int = 0


def daily_series(days: list[date], stats: Mapping[str, Day]) -> list[tuple[date, Day]]:
    """Every day of the window, with zeros where nothing was studied."""
    return [(day, stats.get(day.isoformat(), Day())) for day in days]


@dataclass(frozen=True)
class Week:
    start: date
    answered: int
    correct: int

    @property
    def score_percent(self) -> float | None:
        return score_percent(self.answered, self.correct) if self.answered else None


def first_trend_day(today: date, weeks: int) -> date:
    return week_start(today) - timedelta(weeks=weeks - 1)


def weekly_series(today: date, weeks: int, stats: Mapping[str, Day]) -> list[Week]:
    """`weeks` Monday-to-Sunday weeks ending with the current one, oldest first."""
    first = first_trend_day(today, weeks)
    totals = {first + timedelta(weeks=index): [0, 0] for index in range(weeks)}
    for day, stat in stats.items():
        start = week_start(date.fromisoformat(day))
        if start in totals:
            totals[start][0] += stat.answered
            totals[start][1] += stat.correct
    return [Week(start, answered, correct) for start, (answered, correct) in totals.items()]
