"""Page items. See docs/data-model.md, patterns P1-P3."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.db import TableItem

PAGES_INDEX_PK = "PAGES"


PAGE_SK = "PAGE"


class Page(TableItem, discriminator="Page"):
    slug = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()  # Markdown
    status = UnicodeAttribute()  # draft | published
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()
    version = VersionAttribute()  # optimistic lock: a save or delete based on a stale read fails


def page_pk(slug: str) -> str:
    return f"PAGE#{slug}"


def get_page(slug: str) -> Page | None:
    try:
        return Page.get(page_pk(slug), PAGE_SK, consistent_read=True)
    except DoesNotExist:
        return None


def all_pages() -> list[Page]:
    return [p for p in Page.gsi1.query(PAGES_INDEX_PK) if isinstance(p, Page)]
