"""Category and subcategory items, all in one partition. See docs/data-model.md, patterns T1-T6."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.db import TableItem

TAXONOMY_PK = "TAXONOMY"


def category_sk(slug: str) -> str:
    # The trailing '#' keeps a category and its subcategories contiguous and apart from
    # categories whose slug merely starts the same ('anatomy' vs 'anatomy-embryology').
    return f"CAT#{slug}#"


def subcategory_sk(category: str, slug: str) -> str:
    return f"CAT#{category}#SUB#{slug}"


class _Node(TableItem):
    slug = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    order = NumberAttribute(default=0)
    status = UnicodeAttribute(default="active")  # active | retired
    # Kept exact by the question transactions: every status, and published only.
    question_total = NumberAttribute(default=0)
    published_count = NumberAttribute(default=0)


class Category(_Node, discriminator="Category"):
    pass


class Subcategory(_Node, discriminator="Subcategory"):
    category = UnicodeAttribute()


def all_nodes() -> tuple[list[Category], list[Subcategory]]:
    """The whole taxonomy in one Query (a few hundred small items at most)."""
    categories: list[Category] = []
    subcategories: list[Subcategory] = []
    for item in TableItem.query(TAXONOMY_PK):
        if isinstance(item, Category):
            categories.append(item)
        elif isinstance(item, Subcategory):
            subcategories.append(item)
    return categories, subcategories


def subtree(slug: str) -> tuple[Category | None, list[Subcategory]]:
    """A category and its subcategories: one Query on `SK begins_with CAT#<slug>#`."""
    category: Category | None = None
    subcategories: list[Subcategory] = []
    for item in TableItem.query(TAXONOMY_PK, TableItem.SK.startswith(category_sk(slug)), consistent_read=True):
        if isinstance(item, Category):
            category = item
        elif isinstance(item, Subcategory):
            subcategories.append(item)
    return category, subcategories


def get_category(slug: str) -> Category | None:
    try:
        return Category.get(TAXONOMY_PK, category_sk(slug), consistent_read=True)
    except DoesNotExist:
        return None


def get_subcategory(category: str, slug: str) -> Subcategory | None:
    try:
        return Subcategory.get(TAXONOMY_PK, subcategory_sk(category, slug), consistent_read=True)
    except DoesNotExist:
        return None


def node_ref(category: str, subcategory: str | None = None) -> Category | Subcategory:
    """A keys-only handle for atomic counter updates (ADD) inside a transaction."""
    if subcategory:
        return Subcategory(PK=TAXONOMY_PK, SK=subcategory_sk(category, subcategory))
    return Category(PK=TAXONOMY_PK, SK=category_sk(category))
