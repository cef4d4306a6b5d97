"""Platform rules that every test enforces."""

from __future__ import annotations

from local_stack.meter import Meter


def assert_no_scan(meter: Meter) -> None:
    assert "Scan" not in meter.operations, f"a DynamoDB Scan was issued: {meter.summary()}"
