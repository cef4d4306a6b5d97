"""The stream pipeline gives the same aggregates however its records arrive: once, twice, shuffled,
or with a crash after any single write followed by a redelivery. Every aggregate is compared with
a recomputation from the raw answers."""

from __future__ import annotations

import contextlib
import itertools
import random
from collections import defaultdict
from typing import Any

import pytest
from botocore.client import BaseClient

from app import app
from chalicelib.analytics import data as analytics_data
from chalicelib.analytics.data import CategoryAggregate, DailyStat, DashboardSnapshot, LastActivity
from chalicelib.analytics.effects import practice_source
from chalicelib.analytics.reconcile import reconcile_learner
from chalicelib.cohort import data as cohort_data
from chalicelib.cohort import rules as cohort_rules
from chalicelib.core.config import get_settings
from chalicelib.core.db import TableItem, user_pk
from chalicelib.core.timeutil import iso, parse
from chalicelib.exams import data as exams_data
from chalicelib.practice import data as practice_data
from chalicelib.review import rules as review_rules
from chalicelib.review.data import DueDay, ReviewCard
from chalicelib.taxonomy.data import TAXONOMY_PK, Category, category_sk
from local_stack.streams import FakeLambdaContext, StreamPoller
from tests.support.faults import crash_after_write, empty_table
from tests.support.pipeline import account, answer, complete, open_session, roll_up, submitted_exam_record

_users = itertools.count()


def handler(records: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(app.handler_map["table_stream"]({"Records": records}, FakeLambdaContext()))


def write_sources(rng: random.Random, users: int = 2) -> list[str]:
    """Learners' sessions and answers, written directly (this test is about the pipeline)."""
    names = [f"learner-{next(_users)}" for _ in range(users)]
    for user in names:
        account(user)
        for s in range(2):
            sid, day = f"{user}-s{s}", f"2026-11-{10 + s:02d}"
            open_session(user, sid, [f"q{n}" for n in range(4)], started_at=f"{day}T00:00:00.000Z")
            for n in range(4):  # q0 is answered in both sessions
                category, sub = ("anatomy", "thorax") if n % 2 else ("physiology", None)
                answer(
                    user,
                    sid,
                    f"q{n}",
                    correct=rng.random() < 0.6,
                    at=f"{day}T0{n}:00:00.000Z",
                    category=category,
                    subcategory=sub,
                    seconds=rng.randint(5, 90),
                )
            complete(user, sid, f"{day}T09:00:00.000Z")
    return names


def expected(users: list[str]) -> dict[str, Any]:
    """Recompute every aggregate from the raw answers."""
    result: dict[str, Any] = {}
    for user in users:
        raw = [a for s in range(2) for a in practice_data.answers(f"{user}-s{s}")]
        aggs: dict[str, list[Any]] = defaultdict(lambda: [0, 0, "", set()])
        days: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        states: dict[str, list[Any]] = defaultdict(lambda: [0, None, "", ""])
        for a in raw:
            nodes = [None, a.subcategory] if a.subcategory else [None]
            for key in [analytics_data.aggregate_sk(a.category, sub) for sub in nodes]:
                aggs[key][0] += 1
                aggs[key][1] += int(a.is_correct)
                aggs[key][2] = max(aggs[key][2], a.answered_at)
                aggs[key][3].add(a.question_id)
            day = days[a.local_date]
            day[0], day[1], day[2] = day[0] + 1, day[1] + int(a.is_correct), day[2] + int(a.time_spent_sec)
            state = states[a.question_id]
            state[0] += 1
            order = f"{a.answered_at}#{practice_source(a.session_id, int(a.seq))}"
            if order > state[3]:
                state[1], state[2], state[3] = bool(a.is_correct), a.answered_at, order
        cards, forecast = expected_cards(raw)
        total = sum(v[0] for k, v in aggs.items() if k.endswith("#"))
        right = sum(v[1] for k, v in aggs.items() if k.endswith("#"))
        result[user] = {
            "aggs": {k: (v[0], v[1], v[2]) for k, v in aggs.items()},
            "seen": {k: len(v[3]) for k, v in aggs.items()},  # distinct questions per node
            "days": {k: tuple(v) for k, v in days.items()},
            "states": {k: tuple(v[:3]) for k, v in states.items()},
            "performance": {"correct": right, "incorrect": total - right},
            "last_practice": f"{user}-s1",
            "cards": cards,
            "forecast": forecast,
        }
    everyone = [a for user in users for s in range(2) for a in practice_data.answers(f"{user}-s{s}")]
    result["cohort"] = expected_cohort(everyone)
    return result


def expected_cohort(raw: list[Any]) -> dict[str, Any]:
    """Every question's statistics summed from everyone's raw answers."""
    stats: dict[str, Any] = {}
    for a in raw:
        answered, correct, picks, times = stats.get(a.question_id, (0, 0, {}, {}))
        for option in a.selected_option_ids:
            picks = {**picks, option: picks.get(option, 0) + 1}
        bucket = cohort_rules.time_bucket(int(a.time_spent_sec))
        times = {**times, bucket: times.get(bucket, 0) + 1}
        stats[a.question_id] = (answered + 1, correct + int(a.is_correct), picks, times)
    return stats


def actual_cohort(question_ids: list[str]) -> dict[str, Any]:
    """The statistics once the minute's roll-up has added the ledger (answers counted in batches)."""
    roll_up()
    found = cohort_data.question_counts(question_ids, consistent=True)
    return {q: (c.answered, c.correct, dict(c.picks), dict(c.times)) for q, c in found.items()}


def expected_cards(raw: list[Any]) -> tuple[dict[str, tuple[str, int]], dict[str, int]]:
    """Each question's review card replayed from its raw answers, and the forecast they make."""
    reviews: dict[str, set[review_rules.Review]] = defaultdict(set)
    for a in raw:
        rating = review_rules.rating_for(bool(a.is_correct), int(a.time_spent_sec), a.median_sec, a.confidence)
        source = practice_source(a.session_id, int(a.seq))
        reviews[a.question_id].add(review_rules.review_of(source, parse(a.answered_at), rating, bool(a.is_correct)))
    cards: dict[str, tuple[str, int]] = {}
    forecast: dict[str, int] = defaultdict(int)
    for question_id, found in reviews.items():
        card = review_rules.schedule(found, None)
        assert card is not None
        cards[question_id] = (iso(card.due), card.reviews)
        forecast[card.due.date().isoformat()] += 1  # these learners are on UTC
    return cards, dict(forecast)


def actual(users: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for user in users:
        items = list(TableItem.query(user_pk(user)))
        snapshot = next((i for i in items if isinstance(i, DashboardSnapshot)), None)
        last = next((i for i in items if isinstance(i, LastActivity)), None)
        result[user] = {
            "aggs": {
                i.SK: (int(i.answered), int(i.correct), i.last_practised_at)
                for i in items
                if isinstance(i, CategoryAggregate)
            },
            "days": {
                i.date: (int(i.answered), int(i.correct), int(i.attempt_time_sec))
                for i in items
                if isinstance(i, DailyStat)
            },
            "seen": {i.SK: int(i.seen or 0) for i in items if isinstance(i, CategoryAggregate)},
            "states": {  # what the practice pools read: kept on the review cards
                i.question_id: (len(i.reviews or ()), i.last_correct, i.last_answered_at)
                for i in items
                if isinstance(i, ReviewCard)
            },
            "performance": {k: snapshot.body["performance"][k] for k in ("correct", "incorrect")} if snapshot else None,
            "last_practice": last.summary["session_id"] if last else None,
            "cards": {
                i.question_id: (i.due, int(i.scheduled_reviews or 0)) for i in items if isinstance(i, ReviewCard)
            },
            "forecast": {i.SK.rsplit("#", 1)[1]: len(i.cards or ()) for i in items if isinstance(i, DueDay)},
        }
    result["cohort"] = actual_cohort([f"q{n}" for n in range(4)])
    return result


def without_seen(state: dict[str, Any]) -> dict[str, Any]:
    return {
        user: {k: v for k, v in found.items() if k != "seen"} if user != "cohort" else found
        for user, found in state.items()
    }


def assert_recomputed(users: list[str], message: str) -> None:
    """After crashes: everything equals the recomputation, except that distinct-question counts may
    have counted a question twice (a crash between a transaction and its card writes, the question
    arriving new in another batch: pipeline.apply_counts); reconcile makes those exact too."""
    want = expected(users)
    assert without_seen(actual(users)) == without_seen(want), message
    for user in users:
        reconcile_learner(user)
    assert actual(users) == want, message


def _taxonomy() -> None:
    for order, slug in enumerate(("anatomy", "physiology")):
        Category(PK=TAXONOMY_PK, SK=category_sk(slug), slug=slug, name=slug.title(), order=order).save()


@pytest.fixture(autouse=True)
def taxonomy() -> None:
    _taxonomy()


def test_once_then_twice_in_shuffled_order(stream):
    users = write_sources(random.Random(1))
    records = stream.read()
    rng = random.Random(7)
    rng.shuffle(records)  # out of order, as across shards
    assert handler(records)["batchItemFailures"] == []
    once = actual(users)
    assert once == expected(users)
    rng.shuffle(records)
    assert handler(records)["batchItemFailures"] == []
    assert actual(users) == once


POISONS: dict[str, dict[str, Any] | None] = {
    "practice answer without a sequence": {
        "type": {"S": "PracticeSession"},
        "user_id": {"S": "x"},
        "session_id": {"S": "s"},
        "answered": {"N": "3"},
        "last_answer": {"S": '{"question_id": "q1"}'},
    },
    # The exam's first results are well formed, the last is unreadable (see _poisoned_exam): before,
    # the first answers were counted and the record then failed on every redelivery.
    "exam with one unreadable result": None,
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_malformed_record_is_reported_applies_nothing_and_does_not_block_the_batch(stream, poison):
    users = write_sources(random.Random(2))
    records = stream.read()
    image = POISONS[poison] or _poisoned_exam()
    poisoned = {
        **records[0],
        "eventID": "poison",
        "eventName": "MODIFY",
        "dynamodb": {**records[0]["dynamodb"], "SequenceNumber": "999999999", "NewImage": image},
    }
    response = handler([poisoned, *records])
    assert response["batchItemFailures"] == [{"itemIdentifier": "999999999"}]
    assert actual(users) == expected(users)
    assert list(TableItem.query(user_pk("poisoned-exam-user"))) == []  # nothing of it was applied


def _poisoned_exam() -> dict[str, Any]:
    """A submitted exam whose last mark cannot be read (seconds that are not a number)."""
    good = [(f"q{n}", "anatomy", "0", True, 5) for n in range(3)]
    record = submitted_exam_record(
        "poisoned-exam-user",
        "e1",
        [*good, ("q3", "anatomy", "0", True, 5)],
        time_spent_sec=20,
        submitted_at="2026-11-12T10:00:00.000Z",
    )
    result = exams_data.get_result("e1")
    assert result is not None
    exams_data.result_item("e1", [*result.marks[:3], ["0", 1, "soon"]]).save()
    image: dict[str, Any] = record["dynamodb"]["NewImage"]
    return image


def test_a_record_without_a_dynamodb_section_is_skipped_and_the_rest_applied(stream):
    users = write_sources(random.Random(4))
    records = stream.read()
    response = handler([{"eventID": "bare", "eventName": "INSERT", "eventSource": "aws:dynamodb"}, *records])
    assert response["batchItemFailures"] == []
    assert actual(users) == expected(users)


def _fresh_table() -> StreamPoller:
    """An empty table (and stream) per run, so every run makes the same writes in the same order."""
    empty_table()
    _taxonomy()
    return StreamPoller(get_settings().table_name, app.handler_map["table_stream"])


def test_a_crash_after_any_single_write_then_redelivery_gives_the_same_result(monkeypatch):
    # Count the writes one clean delivery makes.
    stream = _fresh_table()
    users = write_sources(random.Random(3), users=1)
    records = stream.read()
    counting, count = crash_after_write(0)
    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    handler(records)
    monkeypatch.undo()
    total_writes = count["writes"]
    assert total_writes >= 4  # a transaction per session, the last practice, the dashboard

    for crash_at in range(1, total_writes + 1):
        stream = _fresh_table()
        users = write_sources(random.Random(3), users=1)
        records = stream.read()
        crashing, _ = crash_after_write(crash_at)
        monkeypatch.setattr(BaseClient, "_make_api_call", crashing)
        # A crash inside a record is reported for it; one in a follow-up fails the whole invocation.
        with contextlib.suppress(RuntimeError):
            handler(records)
        monkeypatch.undo()
        handler(records)  # Lambda redelivers (everything, the harshest case)
        assert_recomputed(users, f"mismatch after a crash at write {crash_at}")


@pytest.mark.parametrize("seed", range(12))
def test_randomised_delivery_duplicates_splits_crashes_poison_and_late_redelivery(monkeypatch, seed):
    """Each record delivered one to three times, in random order, in batches of random size; some
    invocations crash after a random write and are retried whole; a poison record rides along; an
    old batch comes back at the end. The result equals a recomputation from the raw answers."""
    rng = random.Random(seed)
    stream = _fresh_table()
    users = write_sources(rng, users=2)
    records = stream.read()
    copies = [record for record in records for _ in range(rng.randint(1, 3))]
    rng.shuffle(copies)
    batches, start = [], 0
    while start < len(copies):
        size = rng.randint(1, 40)
        batches.append(copies[start : start + size])
        start += size
    poison = {
        **records[0],
        "eventID": "poison",
        "eventName": "MODIFY",
        "dynamodb": {**records[0]["dynamodb"], "SequenceNumber": "999999999", "NewImage": POISONS[sorted(POISONS)[0]]},
    }
    for batch in batches:
        if rng.random() < 0.3:
            batch = [*batch, poison]
        if rng.random() < 0.4:
            crashing, _ = crash_after_write(rng.randint(1, 6))
            monkeypatch.setattr(BaseClient, "_make_api_call", crashing)
            with contextlib.suppress(RuntimeError):
                handler(batch)
            monkeypatch.undo()
        failures = handler(batch)["batchItemFailures"]
        assert failures in ([], [{"itemIdentifier": "999999999"}])
    handler(batches[rng.randrange(len(batches))])  # a late redelivery of an old batch
    assert_recomputed(users, f"seed {seed}")
