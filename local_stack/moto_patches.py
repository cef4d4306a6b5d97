"""Two corrections to moto so it behaves, and performs, like DynamoDB for our purposes.

1. DynamoDB applies each request atomically; moto takes no lock, so concurrent requests (threaded
   tests, the threaded local server) can see a torn table. Requests are serialised here, which keeps
   every interleaving *between* requests, where our races live.
2. moto's TransactWriteItems deep-copies the whole table once per item in the transaction (for its
   rollback); one copy per table is enough and turns a 100-item transaction from seconds to
   milliseconds on a seeded table. When a transaction is cancelled, moto swaps in that copy; its state
   is moved back into the original table object so that open stream iterators keep reading."""

from __future__ import annotations

import copy
import threading
from typing import Any

_installed = False


class _CopyOncePerTransaction:
    def __init__(self) -> None:
        self.cache: dict[int, tuple[Any, Any]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        # Only the rollback copies of whole tables are shared; items are copied as usual.
        if self.cache is None or not isinstance(obj, Table):
            return copy.deepcopy(obj, memo)
        if id(obj) not in self.cache:
            self.cache[id(obj)] = (obj, copy.deepcopy(obj, memo))  # keep obj alive: its id stays unique
        return self.cache[id(obj)][1]


def _keep_table_identity(backend: Any, tables: dict[str, Any]) -> None:
    """A cancelled transaction makes moto swap in its copy of the table, stream shard included, so
    open stream iterators would read a dead shard; move the restored state into the original objects."""
    for name, table in tables.items():
        restored = backend.tables.get(name)
        if restored is None or restored is table:
            continue
        shard, restored_shard = table.stream_shard, restored.stream_shard
        table.__dict__.update(restored.__dict__)
        if shard is not None and restored_shard is not None:
            shard.__dict__.update({**restored_shard.__dict__, "table": table})
            table.stream_shard = shard
        backend.tables[name] = table


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.dynamodb import models

    lock = threading.RLock()
    original_process = BotocoreStubber.process_request

    def process_request(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return original_process(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]

    shim = _CopyOncePerTransaction()
    models.copy = shim  # type: ignore[attr-defined,assignment]
    original_transact = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            tables = dict(self.tables)
            shim.cache = {}
            try:
                original_transact(self, transact_items)
            finally:
                shim.cache = None
                _keep_table_identity(self, tables)

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
