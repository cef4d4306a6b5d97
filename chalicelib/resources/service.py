"""Resource rules: learners see published resources only; every staff change is audited."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chalicelib.audit.data import Change, audited_transaction
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Forbidden, NotFound, field_error, from_validation_error
from chalicelib.core.pagination import Page
from chalicelib.core.security import Principal, Role, can
from chalicelib.resources import data
from chalicelib.resources.data import Resource
from chalicelib.resources.schemas import ResourceIn, ResourceOut, ResourcePatch, ResourceQuery
from chalicelib.taxonomy import data as taxonomy


def to_out(resource: Resource, *, staff: bool = False) -> ResourceOut:
    return ResourceOut(
        id=resource.resource_id,
        kind=resource.kind,
        title=resource.title,
        author=resource.author,
        duration_sec=int(resource.duration_sec),
        category=resource.category,
        url=resource.url,
        thumbnail_url=resource.thumbnail_url,
        captions_url=resource.captions_url,
        alt_text=resource.alt_text,
        is_featured=bool(resource.is_featured),
        published_at=resource.published_at,
        status=resource.status if staff else None,
        version=int(resource.version) if staff and resource.version is not None else None,
    )


def list_resources(principal: Principal | None, query: ResourceQuery) -> Page[ResourceOut]:
    staff = can(principal, Role.EDITOR)
    if query.status == "draft" and not staff:
        raise Forbidden("Only staff can list draft resources.")
    items, cursor = data.list_resources(
        status=query.status or "published",
        category=query.category,
        kind=query.kind,
        featured=query.featured,
        limit=query.limit,
        cursor=query.cursor,
    )
    return Page[ResourceOut](items=[to_out(r, staff=staff) for r in items], next_cursor=cursor)


def get_resource(principal: Principal | None, resource_id: str) -> ResourceOut:
    resource = data.get_resource(resource_id)
    staff = can(principal, Role.EDITOR)
    if resource is None or (resource.status != "published" and not staff):
        raise NotFound("No such resource.")
    return to_out(resource, staff=staff)


def _check_category(slug: str | None) -> None:
    if slug and taxonomy.get_category(slug) is None:
        raise field_error("category", "No such category.", "unknown_category")


def _fields(request: ResourceIn) -> dict[str, Any]:
    return request.model_dump(mode="json")


def create_resource(actor: Principal, request: ResourceIn) -> ResourceOut:
    _check_category(request.category)
    now = clock.iso(clock.now())
    resource_id = clock.new_id()
    resource = Resource(
        PK=data.resource_pk(resource_id),
        SK=data.RESOURCE_SK,
        resource_id=resource_id,
        created_at=now,
        updated_at=now,
        **_fields(request),
    )
    resource.published_at = now if request.status == "published" else None
    resource.index_keys()
    _save(actor, resource, "resource.created", before=None)  # a new version: attribute_not_exists(version)
    return to_out(resource, staff=True)


def update_resource(actor: Principal, resource_id: str, patch: ResourcePatch) -> ResourceOut:
    resource = data.get_resource(resource_id)
    if resource is None:
        raise NotFound("No such resource.")
    stored_version = int(resource.version) if resource.version is not None else None
    changes = patch.changes()
    based_on = changes.pop("version", None)
    if based_on is not None and based_on != stored_version:
        raise Conflict(
            f"The resource was changed meanwhile (it is now at version {stored_version}); "
            "reload it and redo your change.",
            details=[{"field": "version", "message": f"now {stored_version}", "type": "stale_version"}],
        )
    before = to_out(resource, staff=True).model_dump(mode="json")
    current = {k: v for k, v in before.items() if k in ResourceIn.model_fields}
    try:
        merged = ResourceIn.model_validate({**current, **changes})
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
    _check_category(merged.category)
    for name, value in _fields(merged).items():
        setattr(resource, name, value)
    now = clock.iso(clock.now())
    resource.updated_at = now
    if merged.status == "published" and not resource.published_at:
        resource.published_at = now
    resource.index_keys()
    # Optimistic: the write lands only if nobody saved the resource since we read it.
    _save(actor, resource, "resource.updated", before=before)  # version-checked against the read
    return to_out(resource, staff=True)


def delete_resource(actor: Principal, resource_id: str) -> None:
    resource = data.get_resource(resource_id)
    if resource is None:
        raise NotFound("No such resource.")
    before = to_out(resource, staff=True).model_dump(mode="json")
    change = Change(actor.user_id, "resource.deleted", "resource", resource_id, before=before)
    with audited_transaction(change, otherwise=Conflict("The resource changed meanwhile; reload and retry.")) as tx:
        tx.delete(resource)  # version-checked


def _save(actor: Principal, resource: Resource, action: str, *, before: dict[str, Any] | None) -> None:
    after = to_out(resource, staff=True).model_dump(mode="json")
    change = Change(actor.user_id, action, "resource", resource.resource_id, before=before, after=after)
    with audited_transaction(change, otherwise=Conflict("The resource changed meanwhile; reload and retry.")) as tx:
        tx.save(resource)  # version-checked: a create finds no version, an edit the one it read
