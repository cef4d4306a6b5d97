"""Counts DynamoDB calls and the capacity units they would cost on AWS.

moto reports a constant consumed capacity, so units are computed from item sizes with DynamoDB's
published rules: reads in 4 KB units (half for eventually consistent), writes in 1 KB units,
transactional reads and writes cost double."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

READ_UNIT, WRITE_UNIT = 4096, 1024


def attribute_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = len(str(Decimal(inner)).lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: element}) for element in inner)
    if kind == "L":
        return 3 + sum(1 + attribute_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + attribute_size(element) for name, element in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return units if consistent else units / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT))


@dataclass
class Call:
    operation: str
    rcu: float = 0.0
    wcu: float = 0.0  # the table's writes and, below, the writes its indexes make
    items: int = 0
    index_wcu: float = 0.0
    cancelled: bool = False  # a transaction DynamoDB refused (it still consumes write capacity)
    wcu_by_type: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # item type -> units


@dataclass
class Meter:
    calls: list[Call] = field(default_factory=list)
    capacity: bool = True  # sizing writes costs an extra read per item; guards that only count skip it

    @property
    def operations(self) -> Counter[str]:
        return Counter(call.operation for call in self.calls)

    @property
    def rcu(self) -> float:
        return sum(call.rcu for call in self.calls)

    @property
    def wcu(self) -> float:
        """Table and index writes together: what the bill counts."""
        return sum(call.wcu + call.index_wcu for call in self.calls)

    @property
    def index_wcu(self) -> float:
        return sum(call.index_wcu for call in self.calls)

    def wcu_of(self, *item_types: str) -> float:
        """Write units spent on items of these types (what one feature's items cost)."""
        return sum(call.wcu_by_type.get(t, 0.0) for call in self.calls for t in item_types)

    @property
    def cancelled(self) -> int:
        return sum(call.cancelled for call in self.calls)

    @property
    def items_written(self) -> int:
        return sum(call.items for call in self.calls if call.wcu)

    def summary(self) -> str:
        ops = ", ".join(f"{name} x{count}" for name, count in sorted(self.operations.items())) or "none"
        return f"{ops}; {self.rcu:g} RCU, {self.wcu:g} WCU"

    def reset(self) -> None:
        self.calls.clear()


_active: list[Meter] = []
_original_make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]


def _fetch_item(client: BaseClient, table: str, key: dict[str, Any]) -> dict[str, Any]:
    response = _original_make_api_call(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
    return dict(response.get("Item", {}))


_QUERY_SHAPE = ("TableName", "IndexName", "KeyConditionExpression", "ScanIndexForward", "Limit", "ExclusiveStartKey")


def _evaluated_items(client: BaseClient, params: dict[str, Any], response: dict[str, Any]) -> list[dict[str, Any]]:
    """The items a Query read, whole: DynamoDB bills every item it evaluated (before the filter drops
    any, and before the projection trims them), so a filtered or projected Query is re-read without
    either (same key condition, start and limit) to size them."""
    if not params.get("FilterExpression") and not params.get("ProjectionExpression"):
        return list(response.get("Items", []))
    plain = {name: params[name] for name in _QUERY_SHAPE if name in params}
    condition = str(params["KeyConditionExpression"])
    used = set(re.findall(r"[#:][A-Za-z0-9_]+", condition))
    names = {k: v for k, v in params.get("ExpressionAttributeNames", {}).items() if k in used}
    values = {k: v for k, v in params.get("ExpressionAttributeValues", {}).items() if k in used}
    if names:
        plain["ExpressionAttributeNames"] = names
    if values:
        plain["ExpressionAttributeValues"] = values
    plain["ConsistentRead"] = bool(params.get("ConsistentRead"))
    return list(_original_make_api_call(client, "Query", plain).get("Items", []))


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in ("PK", "SK") if name in item}


def _index_projections() -> list[tuple[tuple[str, ...], str, frozenset[str]]]:
    """(key attributes, projection type, included attributes) of each index, from the template."""
    from chalicelib.core.table_schema import table_properties

    result = []
    for index in table_properties().get("GlobalSecondaryIndexes", []):
        keys = tuple(k["AttributeName"] for k in index["KeySchema"])
        projection = index["Projection"]
        result.append((keys, projection["ProjectionType"], frozenset(projection.get("NonKeyAttributes", []))))
    return result


def _projected_size(item: dict[str, Any], keys: tuple[str, ...], kind: str, included: frozenset[str]) -> int:
    if kind == "ALL":
        return item_size(item)
    wanted = {"PK", "SK", *keys} | (included if kind == "INCLUDE" else set())
    return item_size({name: value for name, value in item.items() if name in wanted})


def index_write_units(before: dict[str, Any], after: dict[str, Any]) -> float:
    """What a write costs in the indexes (DynamoDB's rules): an item entering or leaving an index is
    one write there, one changing its index key is two (delete and put), one staying is one write
    if a projected attribute changed, and nothing if none did."""
    units = 0.0
    for keys, kind, included in _index_projections():
        was, now = all(k in before for k in keys), all(k in after for k in keys)
        if not was and not now:
            continue
        old = _projected_size(before, keys, kind, included) if was else 0
        new = _projected_size(after, keys, kind, included) if now else 0
        if was and now and any(before[k] != after[k] for k in keys):
            units += write_units(old) + write_units(new)
        elif was and now:
            projected = {"PK", "SK", *keys} | set(included)
            changed = any(
                before.get(name) != after.get(name)
                for name in set(before) | set(after)
                if kind == "ALL" or name in projected
            )
            units += write_units(max(old, new)) if changed else 0
        else:
            units += write_units(max(old, new))
    return units


def _write_cost(
    client: BaseClient, table: str, request: dict[str, Any], before: dict[str, Any], *, applied: bool = True
) -> tuple[float, float, str]:
    """(table units, index units, item type) of one write; a refused write costs its size and
    nothing in indexes."""
    if "Item" in request:
        after = request["Item"]
    elif "Key" in request and applied:
        after = _fetch_item(client, table, request["Key"])
    else:
        after = {}
    item_type = str((after or before).get("type", {}).get("S", "?"))
    table_units = write_units(max(item_size(after), item_size(before)))
    if not applied:
        return table_units, 0.0, item_type
    return table_units, index_write_units(before, after), item_type  # after a delete, `after` is empty


def _measure(
    client: BaseClient, operation: str, params: dict[str, Any], response: dict[str, Any], before: dict[str, Any]
) -> Call:
    call = Call(operation)
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        call.items = int("Item" in response)
        call.rcu = read_units(item_size(response.get("Item", {})), consistent)
    elif operation == "Query":
        call.items = len(response.get("Items", []))
        call.rcu = read_units(sum(item_size(item) for item in _evaluated_items(client, params, response)), consistent)
    elif operation == "BatchGetItem":
        for table, request in params["RequestItems"].items():
            items = response.get("Responses", {}).get(table, [])
            strong = bool(request.get("ConsistentRead"))
            call.items += len(items)
            if request.get("ProjectionExpression"):  # billed on the whole item
                items = [_fetch_item(client, table, _key_of(item)) for item in items]
            call.rcu += sum(read_units(item_size(item), strong) for item in items)
            # A key asked for and not found is billed too (the minimum read), unless left unprocessed.
            unprocessed = len(response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
            missing = len(request["Keys"]) - len(items) - unprocessed
            call.rcu += missing * read_units(0, strong)
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        call.items = 1
        call.wcu, call.index_wcu, item_type = _write_cost(client, params["TableName"], params, before)
        call.wcu_by_type[item_type] += call.wcu + call.index_wcu
    elif operation == "TransactWriteItems":
        applied = not response.get("_cancelled")
        call.cancelled = not applied
        for entry, prior in zip(params["TransactItems"], before.get("_each", []), strict=True):
            ((kind, request),) = entry.items()
            call.items += 1
            if kind == "ConditionCheck":
                call.wcu += 2 * write_units(item_size(prior))
                continue
            table_units, index_units, item_type = _write_cost(
                client, request["TableName"], request, prior, applied=applied
            )
            call.wcu += 2 * table_units
            call.index_wcu += index_units
            call.wcu_by_type[item_type] += 2 * table_units + index_units
    elif operation == "BatchWriteItem":
        deleted = iter(before.get("_deleted", []))
        for requests in params["RequestItems"].values():
            for request in requests:
                call.items += 1
                # a delete is billed on the size of the item it removes
                item = next(deleted) if "DeleteRequest" in request else request["PutRequest"]["Item"]
                units = write_units(item_size(item))
                call.wcu += units
                call.wcu_by_type[str(item.get("type", {}).get("S", "?"))] += units
    return call


def _prior(client: BaseClient, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The item(s) as they were before a write, since a write costs the larger of old and new."""
    if operation in ("UpdateItem", "DeleteItem", "PutItem"):
        key = params.get("Key") or _key_of(params["Item"])
        return _fetch_item(client, params["TableName"], key)
    if operation == "TransactWriteItems":
        each = []
        for entry in params["TransactItems"]:
            ((_, request),) = entry.items()
            key = request.get("Key") or _key_of(request["Item"])
            each.append(_fetch_item(client, request["TableName"], key))
        return {"_each": each}
    if operation == "BatchWriteItem":
        deleted = [
            _fetch_item(client, table, request["DeleteRequest"]["Key"])
            for table, requests in params["RequestItems"].items()
            for request in requests
            if "DeleteRequest" in request
        ]
        return {"_deleted": deleted}
    return {}


def _metered_make_api_call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    if not _active or self.meta.service_model.service_name != "dynamodb":
        return _original_make_api_call(self, operation, params)
    sizing = any(meter.capacity for meter in _active)
    before = _prior(self, operation, params) if sizing else {}
    try:
        response = _original_make_api_call(self, operation, params)
    except ClientError as exc:
        # A cancelled transaction raises before it could be counted; DynamoDB still bills it.
        if operation == "TransactWriteItems" and exc.response["Error"]["Code"] == "TransactionCanceledException":
            call = _measure(self, operation, params, {"_cancelled": True}, before) if sizing else Call(operation)
            call.cancelled = True
            for meter in _active:
                meter.calls.append(call)
        raise
    call = _measure(self, operation, params, response, before) if sizing else Call(operation)
    for meter in _active:
        meter.calls.append(call)
    return response


@contextmanager
def metering(*, capacity: bool = True) -> Iterator[Meter]:
    meter = Meter(capacity=capacity)
    if not _active:
        BaseClient._make_api_call = _metered_make_api_call  # type: ignore[attr-defined]
    _active.append(meter)
    try:
        yield meter
    finally:
        _active.remove(meter)
        if not _active:
            BaseClient._make_api_call = _original_make_api_call  # type: ignore[attr-defined]
