"""A replica that has seen nothing yet: every eventually consistent read answers empty."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.client import BaseClient


def lag_every_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # private: not in the stubs

    def lagging(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        response = original(client, operation, params)
        if operation == "Query" and not params.get("ConsistentRead"):
            return {**response, "Items": [], "Count": 0}
        if operation == "GetItem" and not params.get("ConsistentRead"):
            return {k: v for k, v in response.items() if k != "Item"}
        if operation == "BatchGetItem":
            lag = [t for t, request in params["RequestItems"].items() if not request.get("ConsistentRead")]
            return {**response, "Responses": {t: ([] if t in lag else v) for t, v in response["Responses"].items()}}
        return response

    monkeypatch.setattr(BaseClient, "_make_api_call", lagging)
