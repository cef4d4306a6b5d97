"""Corrections to moto so that it behaves, and performs, like DynamoDB for our purposes.

1. DynamoDB applies each request atomically; moto takes no lock, so concurrent requests (threaded
   tests in-process, the threaded moto server of `make dev`) can see a torn table. Requests are
   serialised here on both paths, which keeps every interleaving *between* requests, where our races
   live (and lets the patches below swap state for the length of one request).
2. moto's TransactWriteItems deep-copies every touched table for its rollback (once per item of the
   transaction), so a transaction's cost grows with the whole table. Only the items the transaction
   names can change, so only they are copied, with the stream's length; a cancelled transaction
   puts them back and drops the stream records it added, exactly as if it had never run.
3. moto answers every Query by sorting the whole table and then filtering it. A table Query reads one
   partition, and an index Query only the items whose index hash key matches, so the table is
   narrowed to those before moto's own sorting, paging and filtering run on what is left. Finding
   an index's items still walks the table (25-38 ms on `make dev`'s seeded table, under the lock
   that every other request waits on), so the items are grouped by that key once and the grouping
   is kept until the next request that may write (any operation but a read) is served.
4. moto serialises every response by walking botocore's shape model, value by value; a read's result
   is already DynamoDB's wire JSON (binary values aside), so reads are dumped directly."""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import json
import threading
from collections.abc import Iterator
from typing import Any

_installed = False
_lock = threading.RLock()
# Operations that never change a table: an index grouping made between two writes stays exact.
_READS = frozenset(
    {
        "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable", "ListTables",
        "DescribeTimeToLive", "DescribeContinuousBackups", "GetRecords", "GetShardIterator",
        "DescribeStream", "ListStreams",
    }
)  # fmt: skip
_writes = 0  # requests begun or finished that may have written (see 3.)


@contextlib.contextmanager
def one_request(target: str) -> Iterator[None]:
    """Serve one request (its X-Amz-Target, or "" for other services) atomically (1.), noting a
    possible write before and after it so that no index grouping outlives a change (3.)."""
    global _writes
    may_write = target.rpartition(".")[2] not in _READS
    with _lock:
        _writes += may_write
        try:
            yield
        finally:
            _writes += may_write


class _NoTableCopies:
    """Stands in for the `copy` module inside moto's dynamodb models: whole-table copies (for the
    rollback this module does itself) become no-ops; every other copy is made as usual."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)


def _touched_keys(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(table, hash value, range value) of every item a transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched = []
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_attr = table.range_key_attr
            range_value = DynamoType(key[range_attr]) if range_attr and range_attr in key else None
            touched.append((table, hash_value, range_value))
    return touched


def _restore(saved: list[tuple[Any, Any, Any, Any]], stream_lengths: dict[int, tuple[Any, int]]) -> None:
    for table, hash_value, range_value, item in saved:
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            continue
        partition = table.items[hash_value]
        if item is None:
            partition.pop(range_value, None)
            if not partition:
                table.items.pop(hash_value, None)
        else:
            partition[range_value] = item
    for shard, length in stream_lengths.values():
        del shard.items[length:]


def _transact_write_items(original: Any) -> Any:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _lock:
            touched = _touched_keys(self, transact_items)
            saved = [
                (table, h, r, copy.deepcopy(table.get_item(h, r) if r is not None else table.items.get(h)))
                for table, h, r in touched
            ]
            streams = {
                id(table): (table.stream_shard, len(table.stream_shard.items))
                for table, _, _ in touched
                if table.stream_shard is not None
            }
            try:
                original(self, transact_items)
            except BaseException:
                _restore(saved, streams)
                raise

    return transact_write_items


def _narrowed_query(original: Any) -> Any:
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's backend passes index_name as the 8th positional argument
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions") or []
        if index_name and len(conditions) == 1:  # an index Query names exactly its hash key
            candidates = _index_items(self, *conditions[0])
        elif hash_key is not None and self.range_key_attr:
            candidates = list(self.items.get(hash_key, {}).values())
        else:
            return original(self, hash_key, *args, **kwargs)
        self.all_items = lambda: candidates  # moto's query starts from all_items(); see module doc
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    return query


def _index_items(table: Any, name: str, value: Any) -> list[Any]:
    """The items whose `name` (an index's hash key) is `value`, from a grouping of the table by
    that attribute made since the last possible write."""
    kept = table.__dict__.setdefault("_openmrcs_index_groups", {})
    writes, groups = kept.get(name, (None, None))
    if writes != _writes or groups is None:
        groups = {}
        for partition in table.items.values():
            for item in partition.values() if table.range_key_attr else [partition]:
                found = item.attrs.get(name)
                if found is not None:
                    groups.setdefault((found.type, found.value), []).append(item)
        kept[name] = (_writes, groups)
    return list(groups.get((value.type, value.value), []))


_DIRECT_JSON_READS = frozenset({"Query", "GetItem", "BatchGetItem", "TransactGetItems"})


def _wire_json(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _direct_reads(original: Any) -> Any:
    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in _DIRECT_JSON_READS or not isinstance(self.result, dict):
            return original(self, context)
        body = json.dumps(self.result, default=_wire_json)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    return execute_result


def _cache_per_request_discovery() -> None:
    """moto's server lists its own package directory (~55 stat calls) to find a request's backend,
    and inspects the response class's methods, on every request: a quarter of a GetItem's time.
    Neither changes while the process runs, so compute each once."""
    from moto import backends
    from moto.core import responses
    from moto.core import utils as moto_utils

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    cached = functools.lru_cache(maxsize=None)(moto_utils.method_names_from_class)
    responses.method_names_from_class = cached  # type: ignore[attr-defined]


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_process = BotocoreStubber.process_request

    def process_request(self: BotocoreStubber, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target") or ""
        with one_request(target.decode() if isinstance(target, bytes) else str(target)):
            return original_process(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    original_dispatch = DomainDispatcherApplication.__call__

    def dispatch(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
        # the moto server's requests: the Flask view runs, and the response is built, inside
        with one_request(str(environ.get("HTTP_X_AMZ_TARGET", ""))):
            return original_dispatch(self, environ, start_response)

    DomainDispatcherApplication.__call__ = dispatch  # type: ignore[method-assign]
    _cache_per_request_discovery()
    models.copy = _NoTableCopies()  # type: ignore[attr-defined,assignment]
    backend = models.DynamoDBBackend
    backend.transact_write_items = _transact_write_items(backend.transact_write_items)  # type: ignore[method-assign]
    Table.query = _narrowed_query(Table.query)  # type: ignore[method-assign]
    DynamoResult.execute_result = _direct_reads(DynamoResult.execute_result)  # type: ignore[method-assign]
