"""Operator commands for the answer pipeline (run with the stage's AWS credentials and TABLE_NAME):

    python -m chalicelib.analytics.cli replay --queue-url URL   # failure-queue ranges, still in the stream
    python -m chalicelib.analytics.cli reconcile --user USER_ID # one learner, from the raw answers
    python -m chalicelib.analytics.cli reconcile --active       # every learner active in 35 days

When the stream mapping's retries run out, Lambda skips the records and sends only their shard and
sequence range to the failure queue. `replay` reads each range back from the stream (it keeps
records 24 hours) and hands it to the same handler; a range that has left the stream stays in the
queue and is reported: `reconcile` then recomputes from the raw answers instead."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.core.streams import process_stream_event


@dataclass
class Replayed:
    ranges: int = 0
    records: int = 0
    failed: int = 0  # records the handler still refused
    expired: int = 0  # ranges no longer in the stream


def _range_records(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of one failed batch, as Lambda delivers them."""
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    last, records = int(info["endSequenceNumber"]), list[dict[str, Any]]()
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        for record in page.get("Records", []):
            if int(record["dynamodb"]["SequenceNumber"]) > last:
                return records
            records.append({**record, "eventSourceARN": info["streamArn"], "eventSource": "aws:dynamodb"})
        if not page.get("Records"):
            break
        iterator = page.get("NextShardIterator")
    return records


def replay(queue_url: str, *, endpoint_url: str | None = None) -> Replayed:
    """Re-deliver every failure-queue range still in the stream; delete a message once it applied."""
    config = Config(account_id_endpoint_mode="disabled")
    sqs = boto3.client("sqs", endpoint_url=endpoint_url)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint_url, config=config)
    result = Replayed()
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300)
        if not messages.get("Messages"):
            return result
        for message in messages["Messages"]:
            info = json.loads(message["Body"])["DDBStreamBatchInfo"]
            result.ranges += 1
            try:
                records = _range_records(streams, info)
            except ClientError as exc:
                if exc.response["Error"]["Code"] in ("TrimmedDataAccessException", "ResourceNotFoundException"):
                    result.expired += 1  # left in the queue: reconcile these learners
                    continue
                raise
            failures = process_stream_event({"Records": records})["batchItemFailures"]
            result.records += len(records)
            result.failed += len(failures)
            if not failures:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    replaying = commands.add_parser("replay", help="re-deliver the failure queue's ranges")
    replaying.add_argument("--queue-url", required=True)
    reconciling = commands.add_parser("reconcile", help="recompute from the raw answers and repair")
    who = reconciling.add_mutually_exclusive_group(required=True)
    who.add_argument("--user")
    who.add_argument("--active", action="store_true")
    args = parser.parse_args(argv)

    from chalicelib.analytics import pipeline, reconcile  # noqa: F401  (pipeline registers the consumers)

    if args.command == "replay":
        outcome = replay(args.queue_url)
        print(json.dumps(outcome.__dict__))
        return 1 if outcome.failed or outcome.expired else 0
    counts = reconcile.reconcile_learner(args.user) if args.user else reconcile.reconcile_active_learners()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
