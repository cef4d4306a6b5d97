"""Taxonomy rules: unique slugs and names, retire rather than delete anything with questions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.analytics.data import CategoryAggregate, aggregates
from chalicelib.audit.data import new_event
from chalicelib.core.db import is_condition_failure, transaction
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

Aggregates = dict[tuple[str, str | None], CategoryAggregate]


def progress_of(aggregate: CategoryAggregate | None) -> Progress:
    if aggregate is None or not aggregate.answered:
        return Progress()
    answered, correct = int(aggregate.answered), int(aggregate.correct)
    return Progress(answered=answered, correct=correct, score_percent=round(100 * correct / answered, 2))


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


def _user_aggregates(principal: Principal | None, category: str | None = None) -> Aggregates:
    return aggregates(principal.user_id, category) if principal else {}


def list_categories(principal: Principal | None) -> list[CategoryOut]:
    categories, _ = data.all_nodes()
    mine = _user_aggregates(principal)
    staff = is_staff(principal)
    return [_category_out(c, progress_of(mine.get((c.slug, None))), staff) for c in _visible(categories, staff)]


def category_detail(slug: str, principal: Principal | None) -> CategoryDetail:
    category, subcategories = data.subtree(slug)
    staff = is_staff(principal)
    if category is None or (category.status != "active" and not staff):
        raise NotFound("No such category.")
    mine = _user_aggregates(principal, slug)
    base = _category_out(category, progress_of(mine.get((slug, None))), staff)
    subs = [_subcategory_out(s, progress_of(mine.get((slug, s.slug))), staff) for s in _visible(subcategories, staff)]
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


def _create(actor: Principal, node: Category | Subcategory, kind: str, entity_id: str) -> None:
    event = new_event(
        actor_id=actor.user_id, action=f"{kind}.created", entity_type=kind, entity_id=entity_id, after=_snapshot(node)
    )
    try:
        with transaction() as tx:
            tx.save(node, condition=type(node).PK.does_not_exist())
            tx.save(event)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise Conflict(f"A {kind} with this slug already exists.") from exc
        raise


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
    changes = request.model_dump(exclude_none=True)
    before = _snapshot(node)
    model = type(node)
    actions = [getattr(model, name).set(value) for name, value in changes.items()]
    event = new_event(
        actor_id=actor.user_id,
        action=f"{kind}.updated",
        entity_type=kind,
        entity_id=entity_id,
        before=before,
        after={**before, **changes},
    )
    try:
        with transaction() as tx:
            # SET of the given fields only: counters (ADD) and other edits are never overwritten.
            tx.update(node, actions=actions, condition=model.PK.exists())
            tx.save(event)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise NotFound(f"The {kind} no longer exists.") from exc
        raise
    for name, value in changes.items():
        setattr(node, name, value)


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
    if any(int(n.question_total) for n in nodes):
        raise Conflict(f"This {kind} has questions; retire it instead of deleting it.")
    event = new_event(
        actor_id=actor.user_id,
        action=f"{kind}.deleted",
        entity_type=kind,
        entity_id=entity_id,
        before=_snapshot(nodes[0]),
    )
    try:
        with transaction() as tx:
            for node in nodes:
                # The count is re-checked atomically: a question created meanwhile blocks the delete.
                tx.delete(node, condition=type(node).question_total == 0)
            tx.save(event)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise Conflict(f"This {kind} has questions; retire it instead of deleting it.") from exc
        raise
