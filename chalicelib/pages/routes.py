"""HTTP routes of the pages domain."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.core.http import Call, endpoint, json_response
from chalicelib.core.security import Role
from chalicelib.pages import service
from chalicelib.pages.service import PageIn, PageOut

TAGS = ("pages",)
EDITORS = (Role.EDITOR,)


@endpoint(
    "/pages",
    "GET",
    summary="Every page with its status (staff)",
    tags=TAGS,
    roles=EDITORS,
    response=list[PageOut],
    errors=(401, 403),
)
def list_pages(call: Call) -> list[PageOut]:
    return service.list_pages()


@endpoint(
    "/pages/{slug}",
    "GET",
    summary="A published page (privacy, terms, ...)",
    tags=TAGS,
    auth="optional",
    response=PageOut,
    errors=(404,),
)
def get_page(call: Call) -> PageOut:
    return service.get_page(call.principal, call.params["slug"])


@endpoint(
    "/pages/{slug}",
    "PUT",
    summary="Create or replace a page",
    tags=TAGS,
    roles=EDITORS,
    body=PageIn,
    response=PageOut,
    errors=(400, 401, 403, 422),
)
def put_page(call: Call) -> Response:
    page, created = service.put_page(call.user, call.params["slug"], call.body)
    return json_response(201 if created else 200, page.model_dump(mode="json"), no_store=True)


@endpoint(
    "/pages/{slug}", "DELETE", summary="Delete a page", tags=TAGS, roles=EDITORS, status=204, errors=(401, 403, 404)
)
def delete_page(call: Call) -> None:
    service.delete_page(call.user, call.params["slug"])
