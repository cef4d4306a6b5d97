"""Resource items and their keys. See docs/data-model.md, patterns R1-R4."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib.core.db import TableItem
from chalicelib.core.pagination import collect, decode_cursor

RESOURCE_SK = "RESOURCE"


class Resource(TableItem, discriminator="Resource"):
    resource_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # video | seminar | article
    title = UnicodeAttribute()
    author = UnicodeAttribute(default="")
    duration_sec = NumberAttribute(default=0)
    category = UnicodeAttribute(null=True)
    url = UnicodeAttribute()
    thumbnail_url = UnicodeAttribute(null=True)
    captions_url = UnicodeAttribute(null=True)
    alt_text = UnicodeAttribute(default="")
    is_featured = BooleanAttribute(default=False)
    status = UnicodeAttribute()  # draft | published
    published_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()  # optimistic lock: a save or delete based on a stale read fails

    def index_keys(self) -> None:
        """Newest first per status (GSI1) and per status and category (GSI2, only with a category)."""
        order = f"{self.published_at or self.created_at}#{self.resource_id}"
        self.GSI1PK, self.GSI1SK = f"RESOURCES#{self.status}", order
        if self.category:
            self.GSI2PK, self.GSI2SK = f"RESOURCES#{self.status}#CAT#{self.category}", order
        else:
            self.GSI2PK = self.GSI2SK = None


def resource_pk(resource_id: str) -> str:
    return f"RESOURCE#{resource_id}"


def get_resource(resource_id: str) -> Resource | None:
    try:
        return Resource.get(resource_pk(resource_id), RESOURCE_SK, consistent_read=True)
    except DoesNotExist:
        return None


def list_resources(
    *, status: str, category: str | None, kind: str | None, featured: bool | None, limit: int, cursor: str | None
) -> tuple[list[Resource], str | None]:
    scope = f"resources:{status}:{category}:{kind}:{featured}"
    start = decode_cursor(cursor, scope)
    filters: Condition | None = None
    for condition in (
        Resource.kind == kind if kind else None,
        Resource.is_featured == featured if featured is not None else None,
    ):
        if condition is not None:
            filters = condition if filters is None else filters & condition
    if category:
        results = Resource.gsi2.query(
            f"RESOURCES#{status}#CAT#{category}",
            scan_index_forward=False,
            filter_condition=filters,
            limit=limit,
            last_evaluated_key=start,
        )
    else:
        results = Resource.gsi1.query(
            f"RESOURCES#{status}",
            scan_index_forward=False,
            filter_condition=filters,
            limit=limit,
            last_evaluated_key=start,
        )
    items, next_cursor = collect(results, scope)
    return [r for r in items if isinstance(r, Resource)], next_cursor
