"""The table's shape, read from the CloudFormation template so tests, the local stack and AWS agree."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "template.json"
# Chalice copies only chalicelib/ into the package; the deployed code never creates tables.
_CREATE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "StreamSpecification", "BillingMode")


@lru_cache(maxsize=1)
def table_properties() -> dict[str, Any]:
    template = json.loads(TEMPLATE_PATH.read_text())
    properties: dict[str, Any] = template["Resources"]["Table"]["Properties"]
    return properties


def create_table_request(table_name: str) -> dict[str, Any]:
    properties = table_properties()
    request = {key: properties[key] for key in _CREATE_KEYS}
    request["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    request["TableName"] = table_name
    return request


def ttl_attribute() -> str:
    return str(table_properties()["TimeToLiveSpecification"]["AttributeName"])


def create_table(client: Any, table_name: str) -> None:
    """Create the table (and enable TTL) unless it exists; used by tests, seeds and the local stack."""
    existing = client.list_tables()["TableNames"]
    if table_name in existing:
        return
    client.create_table(**create_table_request(table_name))
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"AttributeName": ttl_attribute(), "Enabled": True}
    )
