"""Counts DynamoDB calls and the capacity units they would cost on AWS.

moto reports a constant consumed capacity, so units are computed from item sizes with DynamoDB's
published rules: reads in 4 KB units (half for eventually consistent), writes in 1 KB units,
transactional reads and writes cost double."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.client import BaseClient

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
    wcu: float = 0.0
    items: int = 0


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
        return sum(call.wcu for call in self.calls)

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


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in ("PK", "SK") if name in item}


def _write_cost(client: BaseClient, table: str, request: dict[str, Any], before: dict[str, Any]) -> float:
    if "Item" in request:
        return write_units(max(item_size(request["Item"]), item_size(before)))
    after = _fetch_item(client, table, request["Key"])
    return write_units(max(item_size(after), item_size(before)))


def _measure(
    client: BaseClient, operation: str, params: dict[str, Any], response: dict[str, Any], before: dict[str, Any]
) -> Call:
    call = Call(operation)
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        call.items = int("Item" in response)
        call.rcu = read_units(item_size(response.get("Item", {})), consistent)
    elif operation == "Query":
        sizes = [item_size(item) for item in response.get("Items", [])]
        call.items = len(sizes)
        call.rcu = read_units(sum(sizes), consistent)
    elif operation == "BatchGetItem":
        for table, items in response.get("Responses", {}).items():
            strong = bool(params["RequestItems"][table].get("ConsistentRead"))
            call.items += len(items)
            call.rcu += sum(read_units(item_size(item), strong) for item in items)
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        call.items = 1
        call.wcu = _write_cost(client, params["TableName"], params, before)
    elif operation == "TransactWriteItems":
        for entry, prior in zip(params["TransactItems"], before.get("_each", []), strict=True):
            ((kind, request),) = entry.items()
            call.items += 1
            call.wcu += 2 * (
                write_units(item_size(prior))
                if kind == "ConditionCheck"
                else _write_cost(client, request["TableName"], request, prior)
            )
    elif operation == "BatchWriteItem":
        for requests in params["RequestItems"].values():
            for request in requests:
                call.items += 1
                call.wcu += write_units(item_size(request.get("PutRequest", {}).get("Item", {})))
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
    return {}


def _metered_make_api_call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    if not _active or self.meta.service_model.service_name != "dynamodb":
        return _original_make_api_call(self, operation, params)
    sizing = any(meter.capacity for meter in _active)
    before = _prior(self, operation, params) if sizing else {}
    response = _original_make_api_call(self, operation, params)
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
