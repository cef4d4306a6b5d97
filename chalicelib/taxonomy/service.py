"""Taxonomy rules: unique slugs and names, retire rather than delete anything with questions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.audit.data import Change, audited_transaction
from chalicelib.core.cache import TtlCache
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.security import Principal, is_staff
from chalicelib.taxonomy import data
from chalicelib.taxonomy.data import TAXONOMY_PK, Category, Subcategory
from chalicelib.taxonomy.schemas import (
    CategoryDetail,
    CategoryOut,
    NodeCreate,
    NodeUpdate,
    Progress,
    SubcategoryOut,
)

Node = tuple[str, str | None]  # (category slug, subcategory slug or None)
# A learner's progress per node, filled in by the analytics domain (which owns the aggregates);
# the taxonomy only places it, so this domain never imports a higher one.
ProgressByNode = Mapping[Node, Progress]
NO_PROGRESS: ProgressByNode = {}

_TAXONOMY_TTL_SEC = 300
_active_categories: TtlCache[list[Category]] = TtlCache("active-categories", _TAXONOMY_TTL_SEC)


def active_categories() -> list[Category]:
    """Active categories in display order. The taxonomy changes rarely: a Lambda re-reads it every
    five minutes; an empty taxonomy (a system being set up) is never cached."""

    def load() -> list[Category]:
        categories, _ = data.all_nodes()
        return _ordered([c for c in categories if c.status == "active"])

    return list(_active_categories.get_or_load("all", load, keep=bool))


def category_names() -> dict[str, str]:
    return {c.slug: c.name for c in active_categories()}


def _ordered(nodes: Sequence[Any]) -> list[Any]:
    return sorted(nodes, key=lambda node: (int(node.order), node.name.lower()))


def _visible(nodes: Sequence[Any], staff: bool) -> list[Any]:
    return _ordered([n for n in nodes if staff or n.status == "active"])


def _category_out(category: Category, progress: Progress, staff: bool) -> CategoryOut:
    return CategoryOut(
        slug=category.slug,
        name=category.name,
        description=category.description,
        order=int(category.order),
        question_count=int(category.published_count),
        progress=progress,
        status=category.status if staff else None,
    )


def _subcategory_out(sub: Subcategory, progress: Progress, staff: bool) -> SubcategoryOut:
    return SubcategoryOut(
        slug=sub.slug,
        name=sub.name,
        description=sub.description,
        order=int(sub.order),
        question_count=int(sub.published_count),
        progress=progress,
        status=sub.status if staff else None,
    )


def list_categories(principal: Principal | None, progress: ProgressByNode = NO_PROGRESS) -> list[CategoryOut]:
    categories, _ = data.all_nodes()
    staff = is_staff(principal)
    return [_category_out(c, progress.get((c.slug, None), Progress()), staff) for c in _visible(categories, staff)]


def category_detail(slug: str, principal: Principal | None, progress: ProgressByNode = NO_PROGRESS) -> CategoryDetail:
    category, subcategories = data.subtree(slug)
    staff = is_staff(principal)
    if category is None or (category.status != "active" and not staff):
        raise NotFound("No such category.")
    base = _category_out(category, progress.get((slug, None), Progress()), staff)
    subs = [
        _subcategory_out(s, progress.get((slug, s.slug), Progress()), staff) for s in _visible(subcategories, staff)
    ]
    return CategoryDetail(**base.model_dump(), subcategories=subs)


# --- staff ----------------------------------------------------------------------------------------


def _snapshot(node: Category | Subcategory) -> dict[str, Any]:
    return {"name": node.name, "description": node.description, "order": int(node.order), "status": node.status}


def _name_taken(name: str, siblings: Sequence[Category | Subcategory], except_slug: str | None = None) -> bool:
    return any(n.name.lower() == name.lower() and n.slug != except_slug for n in siblings)


def create_category(actor: Principal, request: NodeCreate) -> CategoryOut:
    categories, _ = data.all_nodes()
    if _name_taken(request.name, categories):
        raise Conflict("A category with this name already exists.")
    category = Category(PK=TAXONOMY_PK, SK=data.category_sk(request.slug), **request.model_dump())
    _create(actor, category, "category", request.slug)
    return _category_out(category, Progress(), staff=True)


def create_subcategory(actor: Principal, category_slug: str, request: NodeCreate) -> SubcategoryOut:
    category, subcategories = data.subtree(category_slug)
    if category is None:
        raise NotFound("No such category.")
    if _name_taken(request.name, subcategories):
        raise Conflict("This category already has a subcategory with this name.")
    sub = Subcategory(
        PK=TAXONOMY_PK,
        SK=data.subcategory_sk(category_slug, request.slug),
        category=category_slug,
        **request.model_dump(),
    )
    _create(actor, sub, "subcategory", f"{category_slug}/{request.slug}")
    return _subcategory_out(sub, Progress(), staff=True)


def _taxonomy_changed() -> None:
    _active_categories.clear()  # this container sees its own edit at once; others within the TTL


def _create(actor: Principal, node: Category | Subcategory, kind: str, entity_id: str) -> None:
    change = Change(actor.user_id, f"{kind}.created", kind, entity_id, after=_snapshot(node))
    with audited_transaction(change, otherwise=Conflict(f"A {kind} with this slug already exists.")) as tx:
        tx.save(node, condition=type(node).PK.does_not_exist())
    _taxonomy_changed()


def update_category(actor: Principal, slug: str, request: NodeUpdate) -> CategoryOut:
    categories, _ = data.all_nodes()
    category = next((c for c in categories if c.slug == slug), None)
    if category is None:
        raise NotFound("No such category.")
    if request.name and _name_taken(request.name, categories, except_slug=slug):
        raise Conflict("A category with this name already exists.")
    _update(actor, category, request, "category", slug)
    return _category_out(category, Progress(), staff=True)


def update_subcategory(actor: Principal, category_slug: str, slug: str, request: NodeUpdate) -> SubcategoryOut:
    _, subcategories = data.subtree(category_slug)
    sub = next((s for s in subcategories if s.slug == slug), None)
    if sub is None:
        raise NotFound("No such subcategory.")
    if request.name and _name_taken(request.name, subcategories, except_slug=slug):
        raise Conflict("This category already has a subcategory with this name.")
    _update(actor, sub, request, "subcategory", f"{category_slug}/{slug}")
    return _subcategory_out(sub, Progress(), staff=True)


def _update(actor: Principal, node: Category | Subcategory, request: NodeUpdate, kind: str, entity_id: str) -> None:
    before = _snapshot(node)
    changes = {name: value for name, value in request.model_dump(exclude_unset=True).items() if before[name] != value}
    if not changes:
        return  # nothing changes: no write, no audit event
    model = type(node)
    change = Change(actor.user_id, f"{kind}.updated", kind, entity_id, before=before, after={**before, **changes})
    with audited_transaction(change, otherwise=NotFound(f"The {kind} no longer exists.")) as tx:
        # SET of the given fields only: counters (ADD) and other edits are never overwritten.
        tx.update(node, actions=[getattr(model, n).set(v) for n, v in changes.items()], condition=model.PK.exists())
    for name, value in changes.items():
        setattr(node, name, value)
    _taxonomy_changed()


def delete_category(actor: Principal, slug: str) -> None:
    category, subcategories = data.subtree(slug)
    if category is None:
        raise NotFound("No such category.")
    _delete(actor, [category, *subcategories], "category", slug)


def delete_subcategory(actor: Principal, category_slug: str, slug: str) -> None:
    sub = data.get_subcategory(category_slug, slug)
    if sub is None:
        raise NotFound("No such subcategory.")
    _delete(actor, [sub], "subcategory", f"{category_slug}/{slug}")


def _delete(actor: Principal, nodes: Sequence[Category | Subcategory], kind: str, entity_id: str) -> None:
    in_use = Conflict(f"This {kind} has questions; retire it instead of deleting it.")
    if any(int(n.question_total) for n in nodes):
        raise in_use
    change = Change(actor.user_id, f"{kind}.deleted", kind, entity_id, before=_snapshot(nodes[0]))
    with audited_transaction(change, otherwise=in_use) as tx:
        for node in nodes:
            # The count is re-checked atomically: a question created meanwhile blocks the delete.
            tx.delete(node, condition=type(node).question_total == 0)
    _taxonomy_changed()
