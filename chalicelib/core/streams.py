"""Table stream dispatch: each record goes to the consumers registered for its item type.

Delivery is at-least-once and batched, so consumers must be idempotent; failures are reported per
record (powertools BatchProcessor) so one bad record does not hold back the rest of the batch.
A consumer may return follow-ups (keyed work such as "rebuild this user's dashboard") that run once
per batch after its records, however many records asked for them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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


FollowUp = tuple[str, Callable[[], None]]
Consumer = Callable[[StreamChange], Iterable[FollowUp] | None]
_CONSUMERS: dict[str, list[Consumer]] = {}


def consumes(*item_types: str) -> Callable[[Consumer], Consumer]:
    def register(consumer: Consumer) -> Consumer:
        for item_type in item_types:
            _CONSUMERS.setdefault(item_type, []).append(consumer)
        return consumer

    return register


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


def process_stream_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Returns the partial batch response Lambda uses to retry only the failed records."""
    follow_ups: dict[str, Callable[[], None]] = {}

    def handle_record(record: DynamoDBRecord) -> None:
        change = to_change(record.raw_event)
        for consumer in _CONSUMERS.get(change.item_type, []):
            for key, work in consumer(change) or ():
                follow_ups[key] = work

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    result = process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
    failures = result.get("batchItemFailures", [])
    if failures:
        logger.warning("stream records failed", extra={"failed": len(failures), "total": len(event["Records"])})
    # Follow-ups rebuild from committed state, so running them for a partly failed batch is safe;
    # the failed records bring their follow-ups again when they are redelivered.
    for work in follow_ups.values():
        work()
    return dict(result)
