"""The cohort's ledger and its roll-up: answers counted in batches reach their questions' statistics
exactly once, whatever crashes, takes over or arrives in between (docs/data-model.md, "The
cohort's ledger"). Each case ends by comparing every question's statistics with a recomputation
from everyone's raw answers, and by checking that nothing is left waiting."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.client import BaseClient

import app as app_module
from app import app
from chalicelib.cohort import data as cohort_data
from chalicelib.cohort import rules as cohort_rules
from chalicelib.cohort import service as cohort_service
from chalicelib.core.config import get_settings
from chalicelib.practice import data as practice_data
from local_stack.streams import StreamPoller
from tests.support.faults import crash_after_write, empty_table
from tests.support.pipeline import account, answer, open_session

QUESTIONS = [f"q{n}" for n in range(6)]
T0 = 1_795_000_000_000  # epoch ms of the first run in these tests
AS_OF = "2026-11-24T21:00:00Z"
_learners = itertools.count()


def learners_answer(rng: random.Random, count: int = 3) -> list[str]:
    """Each learner answers every question once in one session: one batch, one ledger entry each."""
    sessions = []
    for _ in range(count):
        user = account(f"rollup-learner-{next(_learners)}")
        session_id = f"{user}-s"
        open_session(user, session_id, QUESTIONS, started_at="2026-11-20T00:00:00.000Z")
        for n, question in enumerate(QUESTIONS):
            at = f"2026-11-20T0{n}:00:00.000Z"
            answer(user, session_id, question, correct=rng.random() < 0.6, at=at, seconds=rng.randint(5, 200))
        sessions.append(session_id)
    return sessions


def expected(sessions: list[str]) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for session_id in sessions:
        for a in practice_data.answers(session_id):
            answered, correct, picks, times = stats.get(a.question_id, (0, 0, {}, {}))
            for option in a.selected_option_ids or []:
                picks[option] = picks.get(option, 0) + 1
            bucket = cohort_rules.time_bucket(int(a.time_spent_sec))
            times[bucket] = times.get(bucket, 0) + 1
            stats[a.question_id] = (answered + 1, correct + int(a.is_correct), picks, times)
    return stats


def actual() -> dict[str, Any]:
    found = cohort_data.question_counts(QUESTIONS, consistent=True)
    return {q: (c.answered, c.correct, dict(c.picks), dict(c.times)) for q, c in found.items()}


def deliver(stream: StreamPoller) -> None:
    app_module.load_stream_consumers()
    assert stream.poll_once() > 0


def roll_up(now_ms: int) -> dict[str, int]:
    return cohort_service.roll_up(datetime.fromtimestamp(now_ms / 1000, UTC))


def assert_all_counted(sessions: list[str], message: str = "") -> None:
    assert actual() == expected(sessions), message
    assert cohort_data.waiting(1000) == [], message
    assert cohort_data.open_run(T0 * 2, cohort_rules.LEASE_MS, 100) is None, message  # no run left open


def test_a_batch_of_answers_waits_in_the_ledger_until_the_roll_up_adds_it_once(stream):
    sessions = learners_answer(random.Random(1))
    deliver(stream)
    assert len(cohort_data.waiting(1000)) == 3  # one entry per learner's batch
    assert actual() == {}  # nothing shown before the minute's roll-up

    assert roll_up(T0) == {"runs": 1, "entries": 3, "questions": len(QUESTIONS)}
    assert_all_counted(sessions)
    assert roll_up(T0 + 60_000) == {}  # nothing waits: the next minute does nothing


def test_a_single_answer_goes_straight_into_the_statistics(stream):
    user = account(f"rollup-learner-{next(_learners)}")
    open_session(user, f"{user}-s", QUESTIONS, started_at="2026-11-20T00:00:00.000Z")
    answer(user, f"{user}-s", "q0", correct=True, at="2026-11-20T01:00:00.000Z", seconds=30)
    deliver(stream)
    assert cohort_data.waiting(1000) == []  # cheaper in the learner's own transaction
    assert actual() == expected([f"{user}-s"])


def _fresh_table() -> StreamPoller:
    empty_table()
    return StreamPoller(get_settings().table_name, app.handler_map["table_stream"])


def test_a_crash_after_any_write_of_a_run_is_finished_by_the_next_invocation_exactly_once(monkeypatch):
    stream = _fresh_table()
    sessions = learners_answer(random.Random(2))
    deliver(stream)
    counting, count = crash_after_write(0)
    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    roll_up(T0)
    monkeypatch.undo()
    total = count["writes"]
    assert total >= len(QUESTIONS) + 3  # the run taken, each question, the entries deleted, the run closed

    for crash_at in range(1, total + 1):
        stream = _fresh_table()
        sessions = learners_answer(random.Random(2))
        deliver(stream)
        crashing, _ = crash_after_write(crash_at)
        monkeypatch.setattr(BaseClient, "_make_api_call", crashing)
        with pytest.raises(RuntimeError, match="injected crash"):
            roll_up(T0)
        monkeypatch.undo()
        assert roll_up(T0 + 1_000) == {}  # the lease holds (or the run had closed): nothing meanwhile
        roll_up(T0 + cohort_rules.LEASE_MS + 1)  # the lease ran out: the run is taken over and finished
        assert_all_counted(sessions, f"after a crash at write {crash_at}")


def test_a_run_taken_over_while_its_first_invocation_lives_on_adds_nothing_twice(stream):
    sessions = learners_answer(random.Random(3))
    deliver(stream)
    slow = cohort_data.open_run(T0, cohort_rules.LEASE_MS, cohort_rules.RUN_ENTRIES)
    assert slow is not None and len(slow.entries) == 3
    assert roll_up(T0 + 1_000) == {}  # another invocation meanwhile: the lease is held

    assert roll_up(T0 + cohort_rules.LEASE_MS + 1)["runs"] == 1  # the run taken over, finished
    assert_all_counted(sessions)
    cohort_service.apply_run(slow, AS_OF)  # the first invocation wakes up and does all of it again
    assert_all_counted(sessions)


def test_answers_arriving_during_a_run_wait_for_the_next(stream):
    first = learners_answer(random.Random(4), count=2)
    deliver(stream)
    run = cohort_data.open_run(T0, cohort_rules.LEASE_MS, cohort_rules.RUN_ENTRIES)
    assert run is not None
    later = learners_answer(random.Random(5), count=2)  # committed after the run listed its entries
    deliver(stream)
    cohort_service.apply_run(run, AS_OF)
    assert len(cohort_data.waiting(1000)) == 2  # the late ones were not taken, nor deleted
    assert actual() == expected(first)

    assert roll_up(T0 + 60_000)["entries"] == 2
    assert_all_counted(first + later)


def test_a_backlog_larger_than_a_run_is_drained_run_by_run(stream, monkeypatch):
    monkeypatch.setattr(cohort_rules, "RUN_ENTRIES", 8)  # one entry per lane per run
    sessions = learners_answer(random.Random(6), count=20)
    deliver(stream)
    done = roll_up(T0)
    assert done["entries"] == 20 and done["runs"] >= 3
    assert_all_counted(sessions)
