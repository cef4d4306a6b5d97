"""Reads the table's stream (moto or any DynamoDB endpoint) and hands batches to the same handler
Lambda would call, retrying failed records as Lambda does with ReportBatchItemFailures."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.core.observability import logger
from chalicelib.core.streams import filter_patterns, matches_filter

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class FakeLambdaContext:
    function_name: str = "openmrcs-local-table_stream"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-2:000000000000:function:openmrcs-local-table_stream"
    aws_request_id: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class StreamPoller:
    def __init__(
        self,
        table_name: str,
        handler: Handler,
        *,
        endpoint_url: str | None = None,
        batch_size: int = 100,
        max_retries: int = 3,
    ) -> None:
        # Account-id endpoints (botocore's default for ARNs) are unknown to moto; use the regional ones.
        config = Config(account_id_endpoint_mode="disabled")
        self._dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, config=config)
        self._streams = boto3.client("dynamodbstreams", endpoint_url=endpoint_url, config=config)
        self._table_name = table_name
        self._handler = handler
        self._batch_size = batch_size
        self._max_retries = max_retries
        self._iterators: dict[str, str] = {}
        self._stream_arn: str | None = None
        self._drained = threading.Condition()
        self._empty_poll_started = float("-inf")  # when the latest poll that found nothing began
        self.dropped: list[dict[str, Any]] = []  # what Lambda would send to the on-failure queue

    @property
    def stream_arn(self) -> str:
        """Read once per poller: a table's stream keeps its ARN (a recreated table gets a new
        poller). moto's DescribeTable sizes every item, ~3 ms of its CPU on the seeded table,
        and this was read twice per poll, five times a second."""
        if self._stream_arn is None:
            table = self._dynamodb.describe_table(TableName=self._table_name)["Table"]
            self._stream_arn = str(table["LatestStreamArn"])
        return self._stream_arn

    def _shard_iterators(self, arn: str) -> dict[str, str]:
        for shard in self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
        return self._iterators

    def read(self) -> list[dict[str, Any]]:
        """All records not read yet, in shard order, each shaped as Lambda delivers it."""
        arn, records = self.stream_arn, []
        for shard_id, iterator in list(self._shard_iterators(arn).items()):
            while iterator:
                page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                batch = page.get("Records", [])
                if not batch:
                    break  # keep the iterator that points after the last record read
                records += [{**r, "eventSourceARN": arn, "eventSource": "aws:dynamodb"} for r in batch]
                iterator = page.get("NextShardIterator", "")
                self._iterators[shard_id] = iterator
        return records

    def deliver(self, records: list[dict[str, Any]]) -> int:
        """Invoke the handler batch by batch; returns how many records finally failed. Records the
        event source's filter (derived from the registered consumers) excludes never reach it."""
        import app  # the consumers must be registered before the filter is derived from them

        app.load_stream_consumers()
        patterns = filter_patterns()
        records = [record for record in records if matches_filter(record, patterns)]
        failed = 0
        for start in range(0, len(records), self._batch_size):
            failed += self._deliver_batch(records[start : start + self._batch_size])
        return failed

    def _deliver_batch(self, batch: list[dict[str, Any]]) -> int:
        """Retry from the first failed record, as Lambda does; a record that keeps failing is set
        aside (bisect-on-error isolates it; the on-failure queue receives it) and the rest go on."""
        pending, attempts, dropped = batch, 0, 0
        while pending:
            try:
                response = self._handler({"Records": pending}, FakeLambdaContext()) or {}
                failed_ids = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            except Exception:  # the invocation failed: Lambda retries the whole batch
                logger.exception("stream handler invocation failed")
                failed_ids = {r["dynamodb"]["SequenceNumber"] for r in pending}
            if not failed_ids:
                return dropped
            first = next(i for i, r in enumerate(pending) if r["dynamodb"]["SequenceNumber"] in failed_ids)
            pending, attempts = pending[first:], attempts + 1
            if attempts > self._max_retries:
                logger.error("stream record sent to the failure queue", extra={"event_id": pending[0]["eventID"]})
                self.dropped.append(pending[0])
                pending, attempts, dropped = pending[1:], 0, dropped + 1
        return dropped

    def poll_once(self) -> int:
        records = self.read()
        self.deliver(records)
        return len(records)

    def run(self, stop: threading.Event, interval_sec: float = 0.2) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                found = self.poll_once()
            except Exception:  # keep the local stack alive; the error is in the log
                logger.exception("stream poll failed")
                found = -1
            if found == 0:
                with self._drained:
                    self._empty_poll_started = started
                    self._drained.notify_all()
            stop.wait(interval_sec)

    def wait_until_drained(self, timeout_sec: float) -> bool:
        """Wait until every record written before this call has been delivered (`run` found
        nothing new in a poll that began after it); False on timeout."""
        since = time.monotonic()
        with self._drained:
            return self._drained.wait_for(lambda: self._empty_poll_started >= since, timeout=timeout_sec)
