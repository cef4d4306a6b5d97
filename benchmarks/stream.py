"""What the stream pipeline writes for a batch of 100 practice answers (5 learners x 20), delivered
in the orders Lambda may deliver them, and for a submitted 180-question exam."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.harness import Api

TARGET_BATCH_WCU = 300
TARGET_EXAM_WCU_PER_ANSWER = 3
CATEGORIES = ("anatomy", "physiology", "pathology")
_run = itertools.count()

Delivery = Callable[[list[dict[str, Any]]], list[list[dict[str, Any]]]]


def _in_order(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [records]


def _newest_first(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [list(reversed(records))]


def _two_shards(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Learners split over two shards, each read in order in batches of up to 100 (the mapping's
    batch size), the shards' invocations alternating."""

    def user_of(record: dict[str, Any]) -> str:
        return str(record["dynamodb"].get("NewImage", {}).get("user_id", {}).get("S", ""))

    # Learners by rank (ids are random): the split, and so the figure, is the same on every run.
    rank = {user: n for n, user in enumerate(sorted({user_of(r) for r in records}))}
    shards: list[list[dict[str, Any]]] = [[], []]
    for record in records:
        shards[rank[user_of(record)] % 2].append(record)
    batches = [[shard[i : i + 100] for i in range(0, len(shard), 100)] for shard in shards]
    return [batch for pair in itertools.zip_longest(*batches, fillvalue=[]) for batch in pair if batch]


DELIVERIES: dict[str, Delivery] = {
    "in order": _in_order,
    "newest first": _newest_first,
    "two shards interleaved": _two_shards,
}


def _learners(count: int) -> list[str]:
    from chalicelib.accounts.service import provision_user
    from chalicelib.core.security import Role

    run = next(_run)
    return [
        provision_user(f"stream-{run}-{n}@example.com", "Bench-Password-2026", f"Learner {n}", Role.USER)[0].id
        for n in range(count)
    ]


def _answer_100(users: list[str], *, shared: bool = True) -> None:
    """Each learner answers 20 questions of one session through the request path's write: the same
    20 questions for everyone (`shared`), or 20 of their own (no two learners meet in a question)."""
    from chalicelib.core import clock
    from chalicelib.practice import data as practice

    for user in users:
        session_id = clock.new_id()
        questions = [f"q{n}" if shared else f"q{n}-{user}" for n in range(20)]
        practice.new_session(
            user,
            session_id,
            pool="all",
            requested=20,
            question_ids=questions,
            include_explanations=True,
            seed=1,
            status="active",
            started_at="2026-11-20T10:00:00.000Z",
        ).save()
        for n in range(20):
            session = practice.get_session(user, session_id)
            assert session is not None
            answer = practice.new_answer(
                session_id,
                questions[n],
                user_id=user,
                question_version=1,
                category=CATEGORIES[n % 3],
                subcategory=None,
                selected_option_ids=["a"],
                correct_option_ids=["a"],
                is_correct=n % 4 != 0,
                time_spent_sec=30,
                answered_at=f"2026-11-20T10:{n:02d}:00.000Z",
                local_date="2026-11-20",
            )
            assert practice.record_answer(session, answer) is practice.Recorded.OK


@dataclass
class Delivered:
    meter: Any  # the handler's invocations and then the statistics' roll-up, metered together
    invoked: int  # records the event source's filter let through
    roll_up_wcu: float  # of the meter's WCU, the roll-up's


def _deliver(batches: list[list[dict[str, Any]]]) -> Delivered:
    """The batches through the stream handler, then the minute's roll-up of the cohort's ledger:
    the whole write cost of the answers' effects."""
    from app import app, load_jobs, load_stream_consumers
    from chalicelib.core.jobs import run_job
    from chalicelib.core.streams import filter_patterns, matches_filter
    from local_stack.meter import metering
    from local_stack.streams import FakeLambdaContext

    load_stream_consumers()
    load_jobs()
    patterns = filter_patterns()
    invoked = 0
    with metering() as meter:
        for batch in batches:
            wanted = [record for record in batch if matches_filter(record, patterns)]
            if wanted:
                invoked += len(wanted)
                response = app.handler_map["table_stream"]({"Records": wanted}, FakeLambdaContext())
                assert response["batchItemFailures"] == [], response
        before_roll_up = meter.wcu
        run_job("roll_up_question_statistics")
    return Delivered(meter, invoked, meter.wcu - before_roll_up)


def _row(label: str, records: int, delivered: Delivered, per: int, target: str) -> str:
    meter = delivered.meter
    transactions = meter.operations.get("TransactWriteItems", 0)
    return (
        f"| {label} | {records} | {delivered.invoked} | {transactions} | {meter.cancelled} | "
        f"{meter.items_written} | {meter.wcu:g} ({meter.index_wcu:g}) | {delivered.roll_up_wcu:g} | "
        f"{meter.wcu / per:.2f} | {target} |"
    )


HEADER = [
    "| delivery | records | handed to the handler | transactions | cancelled | items written | "
    "WCU (of which index) | of which the minute's roll-up | WCU per answer | target |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def batch_costs(api: Api) -> list[str]:
    from app import app
    from chalicelib.core.config import get_settings
    from local_stack.streams import StreamPoller

    poller = StreamPoller(get_settings().table_name, app.handler_map["table_stream"])
    lines = list(HEADER)
    for label, delivery in DELIVERIES.items():
        poller.read()  # skip everything written so far
        _answer_100(_learners(5))
        records = poller.read()
        delivered = _deliver(delivery(records))
        verdict = "ok" if delivered.meter.wcu <= TARGET_BATCH_WCU else "OVER"
        lines.append(_row(label, len(records), delivered, 100, f"<= {TARGET_BATCH_WCU} ({verdict})"))
        if label == "in order":
            again = _deliver(delivery(records))
            lines.append(_row("full redelivery of the same", len(records), again, 100, "no new effects"))
    poller.read()
    _answer_100(_learners(5), shared=False)
    records = poller.read()
    delivered = _deliver([records])
    verdict = "ok" if delivered.meter.wcu <= TARGET_BATCH_WCU else "OVER"
    label = "in order, no question shared between learners"
    lines.append(_row(label, len(records), delivered, 100, f"<= {TARGET_BATCH_WCU} ({verdict})"))
    return lines


def _one_popular_question(users: list[str]) -> None:
    """Every learner answers the same question, once, in a session of its own."""
    from chalicelib.core import clock
    from chalicelib.practice import data as practice

    for n, user in enumerate(users):
        session_id = clock.new_id()
        practice.new_session(
            user,
            session_id,
            pool="all",
            requested=1,
            question_ids=["q-popular"],
            include_explanations=True,
            seed=1,
            status="active",
            started_at="2026-11-20T10:00:00.000Z",
        ).save()
        session = practice.get_session(user, session_id)
        assert session is not None
        answer = practice.new_answer(
            session_id,
            "q-popular",
            user_id=user,
            question_version=1,
            category="anatomy",
            subcategory=None,
            selected_option_ids=["abcde"[n % 5]],
            correct_option_ids=["a"],
            is_correct=n % 5 == 0,
            time_spent_sec=20 + n,
            answered_at=f"2026-11-20T10:{n % 60:02d}:{n // 60:02d}.000Z",
            local_date="2026-11-20",
        )
        assert practice.record_answer(session, answer) is practice.Recorded.OK


def popular_question_cost(api: Api) -> list[str]:
    """100 learners answer one question: the pipeline's cost, and what its statistics item takes."""
    from app import app
    from chalicelib.core.config import get_settings
    from local_stack.streams import StreamPoller

    poller = StreamPoller(get_settings().table_name, app.handler_map["table_stream"])
    poller.read()
    _one_popular_question(_learners(100))
    records = poller.read()
    delivered = _deliver([records])
    meter = delivered.meter
    stats = meter.wcu_of("QuestionStat")
    writes = sum(1 for call in meter.calls if call.wcu_by_type.get("QuestionStat"))
    return [
        *HEADER,
        _row("100 learners, one question", len(records), delivered, 100, "(figure)"),
        "",
        f"Of which the question's statistics item: {stats:g} WCU ({stats / 100:.2f} per answer) in {writes} "
        "transactions, one per learner: a single answer is counted in its learner's own transaction (cheaper "
        "than a ledger entry for one answer, cohort.rules.by_ledger).",
    ]


def exam_submission_cost(records: list[dict[str, Any]], answered: int) -> list[str]:
    delivered = _deliver([records])
    meter = delivered.meter
    per_answer = meter.wcu / max(1, answered)
    verdict = "ok" if per_answer <= TARGET_EXAM_WCU_PER_ANSWER else "OVER"
    stats = meter.wcu_of("QuestionStat", "TemplateStat", "CohortLedgerEntry", "CohortRollupRun", "CohortPaperStats")
    return [
        f"Of which the cohort's statistics (the ledger entry, the roll-up's run, the questions, the "
        f"template and the sitting's review statistics): {stats:g} WCU ({stats / max(1, answered):.2f} per answer).",
        "",
        *HEADER,
        _row(
            f"submitted exam, {answered} answers",
            len(records),
            delivered,
            max(1, answered),
            f"<= {TARGET_EXAM_WCU_PER_ANSWER}/answer ({verdict})",
        ),
    ]
