"""The single table as a pynamodb model hierarchy: one base item, one subclass per entity type.

Each domain's data layer subclasses `TableItem` with a discriminator and owns its key formats.
"""

from __future__ import annotations

import builtins
import json
import os
import random
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

import botocore
from botocore.config import Config as BotocoreConfig
from pynamodb.attributes import Attribute, DiscriminatorAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.constants import BINARY
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.config import get_settings
from chalicelib.core.errors import ServiceBusy

T = TypeVar("T")
_Item = TypeVar("_Item", bound="TableItem")


class _TableMeta:
    table_name = get_settings().table_name
    region = get_settings().region
    host = os.environ.get("DYNAMODB_ENDPOINT_URL") or None


class GSI1(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class TableItem(Model):
    """Every item in the table. `type` tells pynamodb which subclass to build on read."""

    class Meta(_TableMeta):
        pass

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # the table's TTL attribute (epoch seconds)

    gsi1 = GSI1()
    gsi2 = GSI2()

    # Items whose attribute names are data (counters per option, per histogram bucket) keep what
    # was read as `raw`: pynamodb drops attributes a model does not declare.
    KEEPS_RAW: ClassVar[bool] = False
    raw: dict[str, Any]

    @classmethod
    def from_raw_data(cls: builtins.type[_Item], data: dict[str, Any]) -> _Item:
        item = super().from_raw_data(data)
        if type(item).KEEPS_RAW:
            item.raw = data
        return item


class CompressedJSONAttribute(Attribute[Any]):
    """JSON stored zlib-compressed: large write-once documents (an exam's paper) cost a third of
    their plain size to write and to read. Reads give back the decoded value."""

    attr_type = BINARY

    def serialize(self, value: Any) -> bytes:
        return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)

    def deserialize(self, value: bytes) -> Any:
        return json.loads(zlib.decompress(value))


def user_pk(user_id: str) -> str:
    """The partition every per-user item lives in (profile, sessions, aggregates, history)."""
    return f"USER#{user_id}"


def kind_of(item: TableItem) -> str:
    """The item's discriminator value ("User", "PracticeAnswer", ...)."""
    return str(TableItem.type.get_discriminator(type(item)))


def partition_items(pk: str) -> list[TableItem]:
    """Every item of one partition (a user's, a session's answers): paged Queries, consistent.
    Only for whole-account work (export, erasure), never on a screen's request path."""
    return list(TableItem.query(pk, consistent_read=True))


def delete_items(items: Sequence[TableItem]) -> int:
    """Delete items in BatchWriteItem calls of 25 (retrying unprocessed keys); idempotent."""
    with TableItem.batch_write() as batch:
        for item in items:
            batch.delete(item)
    return len(items)


def is_condition_failure(exc: Exception) -> bool:
    """True when a write was refused by its condition (lost a race or the guarded state changed)."""
    if isinstance(exc, TransactWriteError):
        reasons = exc.cancellation_reasons or []
        return any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons)
    if isinstance(exc, PutError | UpdateError):
        return exc.cause_response_code == "ConditionalCheckFailedException"
    return False


def cancelled_positions(exc: TransactWriteError) -> list[int]:
    """Which items of a transaction failed their condition, by position."""
    reasons = exc.cancellation_reasons or []
    return [i for i, reason in enumerate(reasons) if reason is not None and reason.code == "ConditionalCheckFailed"]


def retry_on_conflict(attempt: Callable[[], T], *, tries: int = 5) -> T:
    """Re-run an optimistic read-modify-write until its conditional write wins."""
    for remaining in range(tries, 0, -1):
        try:
            return attempt()
        except (PutError, UpdateError, TransactWriteError) as exc:
            if remaining == 1 or not is_condition_failure(exc):
                raise
    raise AssertionError("unreachable")


# Why a transaction may be cancelled without anything being wrong with it: another transaction held
# one of its items (TransactionConflict), or a partition was momentarily over its throughput. Sending
# the same request again is then correct; botocore's own retries do not cover these reasons.
TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
TRANSACTION_ATTEMPTS = 6
BACKOFF_BASE_SEC = 0.025
BACKOFF_CAP_SEC = 1.0


def is_transient(exc: TransactWriteError) -> bool:
    """Cancelled only for transient reasons (never because a condition failed)."""
    codes = {reason.code for reason in exc.cancellation_reasons or [] if reason is not None}
    return bool(codes & TRANSIENT_REASONS) and "ConditionalCheckFailed" not in codes


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff (AWS Architecture Blog): spreads retries of racing writers."""
    ceiling = min(BACKOFF_CAP_SEC, BACKOFF_BASE_SEC * 2**attempt)
    return (rng or random).uniform(0, ceiling)


class RetryingTransactWrite(TransactWrite):
    """The one place DynamoDB's transient cancellations are retried, with jittered backoff; after the
    last attempt the caller gets ServiceBusy (503 with Retry-After), never a bare 500."""

    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def _commit(self) -> Any:
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                return super()._commit()
            except TransactWriteError as exc:
                if not is_transient(exc):
                    raise
                if attempt == TRANSACTION_ATTEMPTS - 1:
                    raise ServiceBusy("The service is busy; please retry.", retry_after_sec=1) from exc
                self.sleep(backoff_delay(attempt))
        raise AssertionError("unreachable")


def transaction() -> TransactWrite:
    """A TransactWriteItems on the table: all of its writes land, or none does."""
    # Reuse the models' connection: a new one would build a botocore client (and parse its models).
    return RetryingTransactWrite(connection=TableItem._get_connection().connection)


def typed(model: type[TableItem]) -> Action:
    """An update that may create its item must also set the discriminator, or reads cannot type it."""
    return model.type.set(model)


def client_user_agent() -> str:
    """What the DynamoDB client sends as its User-Agent: the application, the SDK and Python.

    botocore otherwise rebuilds its header for every call, twice (when the request is built and when
    it is created), sanitising each of its components character by character: 0.12 of 1.22 ms of
    CPU per GET /dashboard in-process (median of 12 paired runs). A user agent given in the client's
    config is sent as it is, with the session's extras (powertools', chalice's) after it."""
    python = ".".join(str(part) for part in sys.version_info[:3])
    return f"openmrcs Botocore/{botocore.__version__} Python/{python}"


def warm_up() -> None:
    """Builds the DynamoDB client (parsing botocore's service model) and fetches the signing secret
    now: called at Lambda init, which runs at full CPU before the first request, instead of inside
    that first request; and by the local server before it serves or seeds anything."""
    connection = TableItem._get_connection().connection
    # pynamodb builds the client from the calling thread's botocore session, merging its own config
    # (timeouts, retries) over that session's default: the user agent goes in the default. (A
    # client some earlier call already built keeps botocore's header: this runs first.)
    connection.session.set_default_client_config(BotocoreConfig(user_agent=client_user_agent()))
    _ = connection.client
    _ = get_settings().jwt_secret
