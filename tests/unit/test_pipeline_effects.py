"""The pipeline's pure rules: folding answers into per-item effects, the total order of newest-wins
fields, chunking into transactions, pending answers above a watermark, and exam time shares."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.analytics.effects import (
    MAX_TRANSACTION_ITEMS,
    AnswerEvent,
    chunked,
    exam_order,
    fold,
    pending,
    practice_source,
    review_entry,
    time_shares,
)
from chalicelib.review.rules import decode_all


def event(n: int, *, at: str = "2026-11-20T10:00:00.000Z", question: str | None = None, **over: object) -> AnswerEvent:
    fields: dict[str, object] = {
        "source": practice_source("s1", n),
        "user_id": "u1",
        "question_id": question or f"q{n}",
        "category": ["anatomy", "physiology", "pathology"][n % 3],
        "subcategory": "thorax" if n % 3 == 0 and n % 2 else None,
        "is_correct": n % 4 != 0,
        "time_spent_sec": 10 + n,
        "answered_at": at,
        "local_date": at[:10],
    }
    fields.update(over)
    return AnswerEvent(**fields)  # type: ignore[arg-type]


answer_lists = st.lists(
    st.builds(
        event,
        st.integers(1, 400),
        at=st.sampled_from(["2026-11-20T10:00:00.000Z", "2026-11-20T10:00:00.001Z", "2026-11-21T08:00:00.000Z"]),
        question=st.sampled_from(["q1", "q2", "q3", "q4", "q5"]),
    ),
    max_size=60,
    unique_by=lambda answer: answer.source,  # a source identifies one answer
)


@given(answer_lists, st.randoms())
def test_folding_does_not_depend_on_order(answers, rng):
    shuffled = list(answers)
    rng.shuffle(shuffled)
    assert fold(answers) == fold(shuffled)


@given(answer_lists)
def test_folded_totals_count_every_answer_once(answers):
    effects = fold(answers)
    assert sum(t.answered for (_, sub), t in effects.nodes.items() if sub is None) == len(answers)
    assert sum(t.answered for t in effects.days.values()) == len(answers)
    assert sum(t.correct for t in effects.days.values()) == sum(a.is_correct for a in answers)
    assert sum(t.time_sec for t in effects.days.values()) == sum(a.time_spent_sec for a in answers)


def test_same_instant_answers_are_ordered_by_source_whatever_the_delivery_order():
    first = event(1, question="q1", is_correct=False)
    second = event(2, question="q1", is_correct=True)  # same millisecond, later in the session
    assert first.answered_at == second.answered_at
    for order in ([first, second], [second, first]):
        newest = fold(order).days[first.local_date].newest
        assert newest is not None and newest.source == second.source and newest.is_correct
        # and the question's review card orders its answers the same way
        reviews = decode_all(review_entry(answer) for answer in order)
        assert reviews[-1].source == second.source and reviews[-1].correct


@given(answer_lists, st.integers(2, 40))
def test_chunks_keep_every_answer_in_order_and_fit_a_transaction(answers, limit):
    chunks = chunked(answers, fixed_items=1, limit=limit)
    assert [a for chunk in chunks for a in chunk.answers] == list(answers)
    for chunk in chunks:
        # a single answer touches at most 5 items; anything bigger fits with the bookkeeping item
        assert 1 + chunk.effects.item_count() <= max(limit, 1 + fold(chunk.answers[:1]).item_count())
    assert chunked(answers, fixed_items=1, limit=limit) == chunks  # deterministic


def test_a_180_question_exam_fits_in_few_transactions():
    answers = exam_order(event(n, question=f"q{n}", source=f"exam:e1:q{n}") for n in range(180))
    chunks = chunked(answers, fixed_items=2)
    assert all(2 + c.effects.item_count() <= MAX_TRANSACTION_ITEMS for c in chunks)
    # one aggregate, one day, one marker and each question's statistics (the cards are written apart)
    assert len(chunks) == 2
    assert sum(len(c.effects.questions) for c in chunks) == 180


@given(st.sets(st.integers(1, 30)), st.integers(0, 30))
def test_pending_answers_are_those_above_the_watermark_and_gaps_are_named(seqs, watermark):
    answers = [(seq, event(seq)) for seq in seqs]
    random.Random(len(seqs)).shuffle(answers)
    todo, missing = pending(answers, watermark)
    assert [a.source for a in todo] == [practice_source("s1", s) for s in sorted(s for s in seqs if s > watermark)]
    above = [s for s in seqs if s > watermark]
    expected_missing = [s for s in range(watermark + 1, max(above) + 1) if s not in seqs] if above else []
    assert missing == expected_missing


@given(st.integers(0, 20_000), st.lists(st.integers(0, 3_600), max_size=180))
def test_exam_time_shares_never_lose_a_second(total, times):
    shares = time_shares(total, times)
    assert len(shares) == len(times)
    if times:
        assert sum(shares) == max(total, sum(times))
        assert shares[1:] == times[1:]
