"""Opaque, tamper-proof pagination cursors and the `{items, next_cursor}` page shape.

A cursor wraps DynamoDB's LastEvaluatedKey with an HMAC bound to the query it came from, so a client
cannot forge a start key (which DynamoDB would reject with a 500-worthy error) or replay one elsewhere."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, Field

from chalicelib.core.config import get_settings
from chalicelib.core.errors import MalformedRequest

if TYPE_CHECKING:
    from chalicelib.core.db import TableItem

T = TypeVar("T")


class PageQuery(BaseModel):
    limit: int = Field(20, ge=1, le=100, description="Items per page (1-100).")
    cursor: str | None = Field(None, max_length=2048, description="next_cursor of the previous page.")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def _key() -> bytes:
    return hmac.new(get_settings().jwt_secret.encode(), b"pagination-cursor", hashlib.sha256).digest()


def _sign(scope: str, body: bytes) -> str:
    return hmac.new(_key(), scope.encode() + b"\x00" + body, hashlib.sha256).hexdigest()[:32]


def encode_cursor(last_key: dict[str, Any] | None, scope: str) -> str | None:
    if not last_key:
        return None
    body = json.dumps(last_key, separators=(",", ":"), sort_keys=True, default=str).encode()
    token = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{token}.{_sign(scope, body)}"


def decode_cursor(cursor: str | None, scope: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    token, _, signature = cursor.partition(".")
    try:
        body = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError as exc:
        raise MalformedRequest("The cursor is invalid.") from exc
    if not hmac.compare_digest(signature, _sign(scope, body)):
        raise MalformedRequest("The cursor is invalid or belongs to another query.")
    decoded: dict[str, Any] = json.loads(body)
    return decoded


def collect(results: Any, scope: str) -> tuple[list[Any], str | None]:
    """Drain a pynamodb ResultIterator that was built with `limit`; returns (items, next_cursor)."""
    items = list(results)
    return items, encode_cursor(results.last_evaluated_key, scope)


M = TypeVar("M", bound="TableItem")


def newest_first_page(
    model: type[M], partition: str, prefix: str, limit: int, cursor: str | None
) -> tuple[list[M], str | None]:
    """One page of a partition's items under a sort-key prefix, newest first (ids are time-ordered):
    one Query of at most `limit` items, whatever the partition's size."""
    scope = f"newest-first:{model.__name__}:{partition}:{prefix}"
    results = model.query(
        partition,
        model.SK.startswith(prefix),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    )
    items, next_cursor = collect(results, scope)
    return [item for item in items if isinstance(item, model)], next_cursor
