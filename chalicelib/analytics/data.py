"""Per-user aggregate items. See docs/data-model.md, patterns AN1-AN6."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core.db import TableItem

AGG_PREFIX = "AGG#"


def aggregate_sk(category: str, subcategory: str | None = None) -> str:
    return f"{AGG_PREFIX}{category}#{subcategory or ''}"


class CategoryAggregate(TableItem, discriminator="CategoryAggregate"):
    """A user's totals for one category (subcategory unset) or one subcategory."""

    category = UnicodeAttribute()
    subcategory = UnicodeAttribute(null=True)
    answered = NumberAttribute(default=0)
    correct = NumberAttribute(default=0)
    last_practised_at = UnicodeAttribute(null=True)


def aggregates(user_id: str, category: str | None = None) -> dict[tuple[str, str | None], CategoryAggregate]:
    """A user's aggregates keyed by (category, subcategory): one Query, whatever the history size."""
    prefix = aggregate_sk(category) if category else AGG_PREFIX
    items = CategoryAggregate.query(f"USER#{user_id}", CategoryAggregate.SK.startswith(prefix))
    return {(item.category, item.subcategory): item for item in items}
