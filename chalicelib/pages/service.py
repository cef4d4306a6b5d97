"""Page rules: the public sees published pages only; staff upserts are audited."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.audit.data import Change, audited_transaction
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, NotFound, field_error
from chalicelib.core.schemas import StaffFieldsModel
from chalicelib.core.security import Principal, Role, can
from chalicelib.pages import data
from chalicelib.pages.data import PAGES_INDEX_PK, Page


class PageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, Field(max_length=100_000, description="Markdown")]
    status: Literal["draft", "published"] = "draft"
    version: int | None = Field(
        None,
        ge=1,
        description="Editing: the version the change is based on (from GET, staff). If the page has been "
        "saved since, the save is refused with 409 instead of overwriting the other change.",
    )


class PageOut(StaffFieldsModel):
    staff_only: ClassVar[frozenset[str]] = frozenset({"status", "version"})

    slug: str
    title: str
    body: str
    updated_at: str
    status: Literal["draft", "published"] | None = None  # staff only
    version: int | None = None  # staff only: send it back when saving


def to_out(page: Page, *, staff: bool) -> PageOut:
    return PageOut(
        slug=page.slug,
        title=page.title,
        body=page.body,
        updated_at=page.updated_at,
        status=page.status if staff else None,
        version=int(page.version) if staff and page.version is not None else None,
    )


def get_page(principal: Principal | None, slug: str) -> PageOut:
    page = data.get_page(slug)
    staff = can(principal, Role.EDITOR)
    if page is None or (page.status != "published" and not staff):
        raise NotFound("No such page.")
    return to_out(page, staff=staff)


def list_pages() -> list[PageOut]:
    return [to_out(page, staff=True) for page in data.all_pages()]


SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def put_page(actor: Principal, slug: str, request: PageIn) -> tuple[PageOut, bool]:
    if not SLUG.fullmatch(slug) or len(slug) > 64:
        raise field_error("slug", "Use lowercase letters, digits and hyphens (at most 64).", "invalid_slug")
    existing = data.get_page(slug)
    current = int(existing.version) if existing is not None and existing.version is not None else None
    if request.version is not None and request.version != current:
        raise Conflict(
            f"The page was changed meanwhile (it is now at version {current}); reload it and redo your change.",
            details=[{"field": "version", "message": f"now {current}", "type": "stale_version"}],
        )
    page = Page(
        PK=data.page_pk(slug),
        SK=data.PAGE_SK,
        GSI1PK=PAGES_INDEX_PK,
        GSI1SK=slug,
        slug=slug,
        title=request.title,
        body=request.body,
        status=request.status,
        updated_at=clock.iso(clock.now()),
        updated_by=actor.user_id,
    )
    change = Change(
        actor.user_id,
        "page.updated" if existing else "page.created",
        "page",
        slug,
        before=to_out(existing, staff=True).model_dump() if existing else None,
        after=to_out(page, staff=True).model_dump(),
    )
    # Optimistic: pynamodb conditions the save on the version read (absent for a create).
    if existing is not None and existing.version is not None:
        page.version = existing.version
    with audited_transaction(change, otherwise=Conflict("The page changed meanwhile; reload and retry.")) as tx:
        tx.save(page)
    return to_out(page, staff=True), existing is None


def delete_page(actor: Principal, slug: str) -> None:
    page = data.get_page(slug)
    if page is None:
        raise NotFound("No such page.")
    change = Change(actor.user_id, "page.deleted", "page", slug, before=to_out(page, staff=True).model_dump())
    with audited_transaction(change, otherwise=Conflict("The page changed meanwhile; reload and retry.")) as tx:
        tx.delete(page)  # version-checked
