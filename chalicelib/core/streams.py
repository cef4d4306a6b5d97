"""Table stream dispatch: each record goes to the consumers registered for its item type.

Delivery is at-least-once and batched, so consumers must be idempotent; failures are reported per
record (powertools BatchProcessor) so one bad record does not hold back the rest of the batch.
A consumer may return follow-ups (keyed work such as "rebuild this user's dashboard") that run once
per batch after its records, however many records asked for them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from boto3.dynamodb.types import TypeDeserializer

from chalicelib.core.observability import logger

_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class StreamChange:
    """One item change, with plain-Python images."""

    event_id: str
    event_name: str  # INSERT | MODIFY | REMOVE
    item_type: str
    sequence_number: str
    new: dict[str, Any] | None
    old: dict[str, Any] | None


@dataclass(frozen=True)
class FollowUp:
    """Keyed work a consumer asks for once per batch (apply a learner's answers, rebuild a dashboard),
    however many records ask for it. Lower stages run first. If the work fails, every record that
    asked for it is reported failed, so Lambda redelivers them (the work must be idempotent)."""

    key: str
    work: Callable[[], None]
    stage: int = 0


Consumer = Callable[[StreamChange], Iterable[FollowUp] | None]
_CONSUMERS: dict[str, list[Consumer]] = {}
_batch: ContextVar[dict[str, Any] | None] = ContextVar("stream_batch", default=None)
T = TypeVar("T")


def batch_shared(key: str, factory: Callable[[], T]) -> T:
    """An object that lives for the current batch (made by `factory` on first use): where several
    records of one batch gather what one follow-up will apply (a learner's answers)."""
    batch = _batch.get()
    if batch is None:
        raise RuntimeError("batch_shared() is only available while a stream batch is processed")
    if key not in batch:
        batch[key] = factory()
    return batch[key]  # type: ignore[no-any-return]


_REMOVALS: set[str] = set()


def consumes(*item_types: str, removals: bool = False) -> Callable[[Consumer], Consumer]:
    """Registers a consumer for changes to items of these types (inserts and modifications; also
    deletions with removals=True). The event source's filter is derived from these registrations."""

    def register(consumer: Consumer) -> Consumer:
        for item_type in item_types:
            _CONSUMERS.setdefault(item_type, []).append(consumer)
            if removals:
                _REMOVALS.add(item_type)
        return consumer

    return register


def filter_patterns() -> list[dict[str, Any]]:
    """Lambda event filtering patterns (FilterCriteria) that let through only records some consumer
    reads: the pipeline's own writes (aggregates, snapshots, watermarks) never invoke it."""
    patterns: list[dict[str, Any]] = [
        {"dynamodb": {"NewImage": {"type": {"S": sorted(_CONSUMERS)}}}},
    ]
    if _REMOVALS:
        patterns.append({"eventName": ["REMOVE"], "dynamodb": {"OldImage": {"type": {"S": sorted(_REMOVALS)}}}})
    return patterns


def matches_filter(record: dict[str, Any], patterns: list[dict[str, Any]]) -> bool:
    """How Lambda applies `filter_patterns()` (the subset of its pattern syntax they use): a record
    passes if any pattern matches; a pattern matches if every leaf list contains the record's value."""
    return any(_matches(record, pattern) for pattern in patterns)


def _matches(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, list):
        return value in pattern
    if not isinstance(value, dict):
        return False
    return all(key in value and _matches(value[key], sub) for key, sub in pattern.items())


def _image(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}


def to_change(raw_record: dict[str, Any]) -> StreamChange:
    body = raw_record["dynamodb"]
    new, old = _image(body.get("NewImage")), _image(body.get("OldImage"))
    item_type = str((new or old or {}).get("type", ""))
    return StreamChange(
        event_id=str(raw_record["eventID"]),
        event_name=str(raw_record["eventName"]),
        item_type=item_type,
        sequence_number=str(body.get("SequenceNumber", "")),
        new=new,
        old=old,
    )


def _readable(record: dict[str, Any]) -> bool:
    body = record.get("dynamodb")
    return isinstance(body, dict) and bool(body.get("SequenceNumber"))


def process_stream_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Returns the partial batch response Lambda uses to retry only the failed records."""
    records = list(event.get("Records") or [])
    readable = [record for record in records if _readable(record)]
    if len(readable) < len(records):
        # Not a table change (no dynamodb section or sequence number): it cannot be retried on its
        # own (failures are reported by sequence number) and retrying would not make it readable.
        unreadable = [str(record.get("eventID", "?")) for record in records if not _readable(record)]
        logger.error("unreadable stream records skipped", extra={"event_ids": unreadable})
    follow_ups: dict[str, FollowUp] = {}
    askers: dict[str, list[str]] = {}

    def handle_record(record: DynamoDBRecord) -> None:
        change = to_change(record.raw_event)
        for consumer in _CONSUMERS.get(change.item_type, []):
            for follow_up in consumer(change) or ():
                follow_ups[follow_up.key] = follow_up
                askers.setdefault(follow_up.key, []).append(change.sequence_number)

    token = _batch.set({})
    try:
        failed = _run(readable, handle_record, follow_ups, askers, context)
    finally:
        _batch.reset(token)
    if failed:
        logger.warning("stream records failed", extra={"failed": len(failed), "total": len(records)})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in sorted(failed, key=int)]}


def _run(
    records: list[dict[str, Any]],
    handle_record: Callable[[DynamoDBRecord], None],
    follow_ups: dict[str, FollowUp],
    askers: dict[str, list[str]],
    context: Any,
) -> set[str]:
    failed: set[str] = set()
    if records:
        processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        result = process_partial_response(
            event={"Records": records}, record_handler=handle_record, processor=processor, context=context
        )
        failed = {str(item["itemIdentifier"]) for item in result.get("batchItemFailures", [])}
    # Follow-ups read and write committed state, so running them for a partly failed batch is safe;
    # the failed records bring their follow-ups again when they are redelivered.
    for follow_up in sorted(follow_ups.values(), key=lambda f: f.stage):
        try:
            follow_up.work()
        except Exception:
            logger.exception("stream follow-up failed", extra={"key": follow_up.key})
            failed.update(askers[follow_up.key])
    return failed
