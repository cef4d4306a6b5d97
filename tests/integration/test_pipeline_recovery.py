"""The way back when records are lost: `reconcile` recomputes from the raw answers and repairs,
`replay` re-delivers the failure queue's ranges while they are still in the stream."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import time_machine
from botocore.config import Config

from chalicelib.analytics import cli, reconcile
from chalicelib.analytics import data as analytics
from chalicelib.analytics.data import CategoryAggregate
from tests.integration.test_pipeline_redelivery import actual, expected, handler, write_sources


def test_reconcile_repairs_lost_records_and_a_corrupted_aggregate_and_is_idempotent(stream):
    users = write_sources(random.Random(11))
    records = stream.read()
    kept = records[: len(records) // 3]  # the rest were lost: retries ran out
    assert handler(kept)["batchItemFailures"] == []
    assert actual(users) != expected(users)
    aggregate = analytics.aggregates(users[0], consistent=True)[("anatomy", None)]
    aggregate.update(actions=[CategoryAggregate.answered.add(5)])  # and one aggregate double-counted

    for user in users:
        assert any(reconcile.reconcile_learner(user).values())
    assert actual(users) == expected(users)
    for user in users:  # a second run finds nothing to repair
        assert reconcile.reconcile_learner(user) == {
            "aggregates": 0,
            "days": 0,
            "review_cards": 0,
        }
    assert handler(records)["batchItemFailures"] == []  # the lost records arrive after all: no double count
    assert actual(users) == expected(users)


def test_the_reconcile_job_covers_every_recently_active_learner(stream):
    with time_machine.travel("2026-11-12 12:00:00Z", tick=False):  # a day after the answers
        users = write_sources(random.Random(12))
        assert handler(stream.read())["batchItemFailures"] == []
        for user in users:
            aggregate = analytics.aggregates(user, consistent=True)[("physiology", None)]
            aggregate.update(actions=[CategoryAggregate.correct.add(1)])
        assert reconcile.reconcile_active_learners() == {"learners": 2, "repaired": 2}
    assert actual(users) == expected(users)


def _failure_message(stream_arn: str, records: list[dict[str, Any]]) -> str:
    """What Lambda sends the on-failure destination for a skipped stream batch."""
    return json.dumps(
        {
            "requestContext": {"condition": "RetryAttemptsExhausted"},
            "DDBStreamBatchInfo": {
                "shardId": records[0]["_shard"],
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "streamArn": stream_arn,
                "batchSize": len(records),
            },
        }
    )


def test_replay_redelivers_the_failure_queues_ranges(stream):
    users = write_sources(random.Random(13))
    stream_arn = stream.stream_arn
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    records = [{**r, "_shard": shard["ShardId"]} for r in stream.read()]
    half = len(records) // 2
    assert handler(records[:half])["batchItemFailures"] == []  # the second half was skipped
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="openmrcs-test-stream-failures")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=_failure_message(stream_arn, records[half:]))

    outcome = cli.replay(queue)
    assert (outcome.ranges, outcome.records, outcome.failed, outcome.expired) == (1, len(records) - half, 0, 0)
    assert actual(users) == expected(users)
    assert sqs.receive_message(QueueUrl=queue).get("Messages") is None  # handled: deleted
