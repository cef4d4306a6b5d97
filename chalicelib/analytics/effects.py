"""What answers change, folded: pure rules of the stream pipeline (no I/O, no clock).

An answer adds to its category's (and subcategory's) totals and to its day's stats, and may become
the newest thing those items have seen (its question's review card is kept apart: review.rules). Many answers of one
learner fold into one set of per-item deltas, so a batch costs one write per item touched rather
than one per answer. "Newest" is a total order: the answer time (milliseconds) and then the
answer's source identity, so two answers in the same instant are ordered the same way whatever
order they are delivered in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from chalicelib.cohort.rules import QuestionTally
from chalicelib.core.timeutil import parse
from chalicelib.review.rules import Confidence, rating_for, review_of

# One DynamoDB transaction holds at most 100 items; a few are kept for watermarks and claims.
MAX_TRANSACTION_ITEMS = 100


@dataclass(frozen=True)
class AnswerEvent:
    """An answered question, from a practice session or a submitted exam."""

    source: str  # stable and unique: "practice:<session>:<seq>" or "exam:<session>:<question>"
    user_id: str
    question_id: str
    category: str
    subcategory: str | None
    is_correct: bool
    time_spent_sec: int
    answered_at: str  # ISO 8601 UTC with milliseconds
    local_date: str  # the learner's calendar day
    confidence: Confidence | None = None  # practice answers may say how sure the learner was
    median_sec: int | None = None  # practice: everyone's median time on the question at the time
    selected: tuple[str, ...] = ()  # the chosen option ids (the cohort's option shares)
    rest_score: int | None = None  # exams: share correct on the rest of the paper (cohort.rules)
    answer_seconds: int | None = None  # exams: the question's own time (time_spent_sec is its share)
    first: bool = False  # the learner's first answer to this question (marked by `mark_first_answers`)

    @property
    def order(self) -> str:
        """The total order of newest-wins fields: time first, then the source as a tie-breaker."""
        return f"{self.answered_at}#{self.source}"

    @property
    def utc_day(self) -> str:
        return self.answered_at[:10]


def practice_source(session_id: str, seq: int) -> str:
    return f"practice:{session_id}:{seq:06d}"


def exam_source(session_id: str, question_id: str) -> str:
    return f"exam:{session_id}:{question_id}"


def review_entry(answer: AnswerEvent) -> str:
    """The answer as a review of its question's card (review.rules): rated, timed, ordered. Kept
    outside the exactly-once transaction: a card's reviews are a set, so adding one twice is harmless."""
    rating = rating_for(answer.is_correct, answer.time_spent_sec, answer.median_sec, answer.confidence)
    return review_of(answer.source, parse(answer.answered_at), rating, answer.is_correct).encode()


@dataclass
class Totals:
    answered: int = 0
    correct: int = 0
    time_sec: int = 0
    seen: int = 0  # distinct questions: first answers
    newest: AnswerEvent | None = None

    def add(self, answer: AnswerEvent) -> None:
        self.answered += 1
        self.correct += int(answer.is_correct)
        self.seen += int(answer.first)
        self.time_sec += answer.time_spent_sec
        if self.newest is None or answer.order > self.newest.order:
            self.newest = answer


NodeKey = tuple[str, str | None]  # (category, subcategory); subcategory None for the category itself


@dataclass
class Effects:
    """The summed changes of a set of answers, one entry per item they touch."""

    nodes: dict[NodeKey, Totals] = field(default_factory=dict)
    days: dict[str, Totals] = field(default_factory=dict)
    active_days: set[str] = field(default_factory=set)
    questions: dict[str, QuestionTally] = field(default_factory=dict)  # the cohort's statistics

    def add(self, answer: AnswerEvent) -> None:
        for node in nodes_of(answer):
            self.nodes.setdefault(node, Totals()).add(answer)
        self.days.setdefault(answer.local_date, Totals()).add(answer)
        self.active_days.add(answer.utc_day)
        self.questions.setdefault(answer.question_id, QuestionTally()).add(
            correct=answer.is_correct,
            selected=answer.selected,
            seconds=answer.time_spent_sec if answer.answer_seconds is None else answer.answer_seconds,
            rest=answer.rest_score,
        )

    def item_count(self, *, questions: bool = True) -> int:
        """Items a transaction of these effects writes (the day markers are written before it and
        the questions' cards after it: idempotent writes that need no transaction); `questions`: whether
        the questions' statistics are among them (not when they go through the cohort's ledger)."""
        return len(self.nodes) + len(self.days) + (len(self.questions) if questions else 0)

    def added_items(self, answer: AnswerEvent, *, questions: bool = True) -> int:
        """How many more items this answer would touch."""
        return (
            sum(node not in self.nodes for node in nodes_of(answer))
            + (answer.local_date not in self.days)
            + (questions and answer.question_id not in self.questions)
        )


def mark_first_answers(answers: Iterable[AnswerEvent], answered_before: set[str]) -> dict[str, AnswerEvent]:
    """Of these answers, the learner's first to each question not answered before: the earliest in
    the total order. Returns them by source (the caller swaps them in)."""
    earliest: dict[str, AnswerEvent] = {}
    for answer in answers:
        if answer.question_id in answered_before:
            continue
        known = earliest.get(answer.question_id)
        if known is None or answer.order < known.order:
            earliest[answer.question_id] = answer
    return {a.source: replace(a, first=True) for a in earliest.values()}


def nodes_of(answer: AnswerEvent) -> list[NodeKey]:
    nodes: list[NodeKey] = [(answer.category, None)]
    if answer.subcategory:
        nodes.append((answer.category, answer.subcategory))
    return nodes


def fold(answers: Iterable[AnswerEvent]) -> Effects:
    effects = Effects()
    for answer in answers:
        effects.add(answer)
    return effects


@dataclass
class Chunk:
    """Answers applied in one transaction, with `fixed_items` items of bookkeeping beside them."""

    answers: list[AnswerEvent]
    effects: Effects


def chunked(
    answers: Sequence[AnswerEvent],
    *,
    fixed_items: int = 1,
    limit: int = MAX_TRANSACTION_ITEMS,
    questions: bool = True,
) -> list[Chunk]:
    """Split answers, in the order given, into runs whose effects fit one transaction each
    (`questions`: counting an item per question's statistics). Deterministic: the same answers in
    the same order always give the same chunks."""
    chunks: list[Chunk] = []
    current = Chunk([], Effects())
    for answer in answers:
        effects = current.effects
        added = effects.added_items(answer, questions=questions)
        needed = fixed_items + effects.item_count(questions=questions) + added
        if current.answers and needed > limit:
            chunks.append(current)
            current = Chunk([], Effects())
        current.answers.append(answer)
        current.effects.add(answer)
    if current.answers:
        chunks.append(current)
    return chunks


def exam_order(answers: Iterable[AnswerEvent]) -> list[AnswerEvent]:
    """Exam answers grouped by category and subcategory, so a chunk touches few aggregate items."""
    return sorted(answers, key=lambda a: (a.category, a.subcategory or "", a.question_id))


def pending(answers: Iterable[tuple[int, AnswerEvent]], watermark: int) -> tuple[list[AnswerEvent], list[int]]:
    """A session's answers not yet applied (sequence above the watermark), in sequence order, and
    the sequence numbers missing between the watermark and the newest one (lost records)."""
    by_seq = {seq: answer for seq, answer in answers if seq > watermark}
    if not by_seq:
        return [], []
    newest = max(by_seq)
    missing = [seq for seq in range(watermark + 1, newest + 1) if seq not in by_seq]
    return [by_seq[seq] for seq in sorted(by_seq)], missing


def time_shares(total_sec: int, answer_times: Sequence[int]) -> list[int]:
    """An exam's time, attributed to its chunks: each chunk its answers' own time, and the first
    also the time not spent on any answered question, so the day's total equals the exam's time
    exactly (never less: integer splits must not lose seconds)."""
    if not answer_times:
        return []
    shares = [max(0, int(t)) for t in answer_times]
    shares[0] += max(0, int(total_sec) - sum(shares))
    return shares
