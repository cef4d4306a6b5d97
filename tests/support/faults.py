"""Injected faults for the exactly-once tests: a process that dies right after its n-th DynamoDB
write, and an empty table per run (so that every run makes the same writes in the same order)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.client import BaseClient

from chalicelib.core.config import get_settings
from chalicelib.core.table_schema import create_table

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def crash_after_write(number: int) -> tuple[Callable[..., Any], dict[str, int]]:
    """A replacement for botocore's API call that raises right after the `number`-th write has
    landed (0: never; the count then tells how many writes a clean run makes)."""
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # private: not in the stubs
    count = {"writes": 0}

    def crashing(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        response = original(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb" and operation in WRITES:
            count["writes"] += 1
            if count["writes"] == number:
                raise RuntimeError(f"injected crash after write {number} ({operation})")
        return response

    return crashing, count


def empty_table() -> None:
    client, name = boto3.client("dynamodb"), get_settings().table_name
    client.delete_table(TableName=name)
    create_table(client, name)
