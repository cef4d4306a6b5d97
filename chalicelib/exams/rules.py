"""Exam rules: the clock, the score and the category breakdown. Pure: the caller passes `now`,
the answers and the answer key; nothing here reads the table or the clock.

The outcomes a request can hit (already submitted, time up, ...) are domain errors: the service
raises them, and the HTTP edge maps each to a status in one table (chalicelib/exams/routes.py
registers that mapping), so the expiry job can catch them without knowing about HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core.errors import DomainError
from chalicelib.questions.rules import is_correct, score_percent

GRACE_SEC = 30  # network latency allowance after the deadline


# --- outcomes ------------------------------------------------------------------------------------


class ExamNotFound(DomainError):
    kind = "not_found"


class UserNotFound(DomainError):
    kind = "not_found"


class UserChanged(DomainError):
    kind = "conflict"


class AlreadySubmitted(DomainError):
    kind = "conflict"


class TimeUp(DomainError):
    kind = "conflict"


class ReviewNotOpen(DomainError):
    kind = "conflict"


class PaperNotFillable(DomainError):
    kind = "conflict"


class AnswersKeptChanging(DomainError):
    kind = "conflict"


class TemplateInUse(DomainError):
    kind = "conflict"


class TemplateChanged(DomainError):
    kind = "conflict"


# --- the clock -----------------------------------------------------------------------------------


def deadline(started: datetime, duration_minutes: int, extra_time_percent: int) -> datetime:
    """Extra time (an accommodation) stretches the duration by a percentage."""
    return started + timedelta(minutes=duration_minutes * (100 + extra_time_percent) / 100)


def accepts_answers(now: datetime, deadline_at: datetime) -> bool:
    """Answers are accepted until the deadline plus the grace period, inclusive."""
    return now <= deadline_at + timedelta(seconds=GRACE_SEC)


def remaining_sec(now: datetime, deadline_at: datetime) -> int:
    return max(0, int((deadline_at - now).total_seconds()))


def time_spent_sec(answer_times: Sequence[int], started: datetime, deadline_at: datetime, now: datetime) -> int:
    """The sum of the time spent on each question (the spec's rule), never more than the wall
    clock allowed: the time since the start, capped at the session's duration."""
    wall = max(0.0, (min(now, deadline_at) - started).total_seconds())
    return min(sum(max(0, t) for t in answer_times), int(wall))


# --- the paper and the answer sheet ---------------------------------------------------------------


@dataclass(frozen=True)
class KeyEntry:
    """One question of a drawn paper as scoring and analytics need it, in paper order."""

    question_id: str
    category: str
    subcategory: str | None
    question_type: str
    option_ids: list[str]  # in the order this learner sees them
    correct: list[int]  # positions (in that order) of the correct options

    def as_json(self) -> list[object]:
        return [self.question_id, self.category, self.subcategory, self.question_type, self.option_ids, self.correct]

    @classmethod
    def from_json(cls, raw: Sequence[object]) -> KeyEntry:
        qid, category, subcategory, question_type, option_ids, correct = raw
        return cls(
            str(qid),
            str(category),
            str(subcategory) if subcategory else None,
            str(question_type),
            [str(o) for o in option_ids],  # type: ignore[attr-defined]
            [int(p) for p in correct],  # type: ignore[attr-defined]
        )

    def correct_ids(self) -> list[str]:
        return [self.option_ids[p] for p in self.correct]


def encode_picks(option_ids: Sequence[str], selected: Sequence[str]) -> str:
    """The chosen options as their positions, one digit each (a question has at most 10 options)."""
    return "".join(str(option_ids.index(o)) for o in sorted(selected, key=option_ids.index))


def decode_picks(option_ids: Sequence[str], picks: str) -> list[str]:
    return [option_ids[int(p)] for p in picks]


@dataclass(frozen=True)
class Mark:
    """One question's scored outcome as the result item stores it."""

    picks: str
    is_correct: bool
    time_spent_sec: int

    def as_json(self) -> list[object]:
        return [self.picks, int(self.is_correct), self.time_spent_sec]

    @classmethod
    def from_json(cls, raw: Sequence[object]) -> Mark:
        picks, right, seconds = raw
        return cls(str(picks), bool(right), int(seconds))  # type: ignore[call-overload]


def marks_of(key: Sequence[KeyEntry], scored: ExamScore) -> list[Mark]:
    return [
        Mark(
            encode_picks(entry.option_ids, scored.results[entry.question_id].selected),
            scored.results[entry.question_id].is_correct,
            scored.results[entry.question_id].time_spent_sec,
        )
        for entry in key
    ]


@dataclass(frozen=True)
class QuestionOutcome:
    """A submitted exam's question as analytics counts it."""

    question_id: str
    category: str
    subcategory: str | None
    answered: bool
    is_correct: bool
    time_spent_sec: int
    selected: tuple[str, ...] = ()


def outcomes(key: Sequence[KeyEntry], marks: Sequence[Mark]) -> list[QuestionOutcome]:
    if len(key) != len(marks):
        raise ValueError(f"a result of {len(marks)} marks for a paper of {len(key)} questions")
    return [
        QuestionOutcome(
            e.question_id,
            e.category,
            e.subcategory,
            bool(m.picks),
            m.is_correct,
            m.time_spent_sec,
            tuple(decode_picks(e.option_ids, m.picks)),
        )
        for e, m in zip(key, marks, strict=True)
    ]


# --- the score -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    selected: list[str]
    correct: list[str]
    is_correct: bool
    time_spent_sec: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "selected": self.selected,
            "correct": self.correct,
            "is_correct": self.is_correct,
            "time_spent_sec": self.time_spent_sec,
        }


@dataclass(frozen=True)
class ExamScore:
    results: dict[str, QuestionResult]
    correct: int
    answered: int
    total: int
    score_percent: float

    def passed(self, pass_mark_percent: float) -> bool:
        return self.score_percent >= pass_mark_percent


def score_exam(
    question_ids: Sequence[str],
    selected: Mapping[str, Sequence[str]],
    answer_key: Mapping[str, Sequence[str]],
    times: Mapping[str, int] | None = None,
) -> ExamScore:
    """Score every question of the paper: an unanswered question counts as wrong, and the
    percentage is of the whole paper, not of the questions answered."""
    times = times or {}
    results = {
        qid: QuestionResult(
            selected=list(selected.get(qid, [])),
            correct=list(answer_key.get(qid, [])),
            is_correct=is_correct(selected.get(qid, []), answer_key.get(qid, [])),
            time_spent_sec=int(times.get(qid, 0)),
        )
        for qid in question_ids
    }
    right = sum(r.is_correct for r in results.values())
    return ExamScore(
        results=results,
        correct=right,
        answered=sum(bool(r.selected) for r in results.values()),
        total=len(question_ids),
        score_percent=score_percent(len(question_ids), right),
    )


@dataclass(frozen=True)
class CategoryScore:
    category: str
    total: int
    correct: int

    @property
    def score_percent(self) -> float:
        return score_percent(self.total, self.correct)


def category_breakdown(
    question_ids: Sequence[str], category_of: Mapping[str, str], correct_by_question: Mapping[str, bool]
) -> list[CategoryScore]:
    """Per category of the paper: how many questions, how many right; ordered by category slug."""
    counts: dict[str, list[int]] = {}
    for qid in question_ids:
        tally = counts.setdefault(category_of[qid], [0, 0])
        tally[0] += 1
        tally[1] += int(bool(correct_by_question.get(qid, False)))
    return [CategoryScore(slug, total, right) for slug, (total, right) in sorted(counts.items())]
