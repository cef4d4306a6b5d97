"""HTTP routes of the taxonomy domain: staff editing. The learner's reads (`GET /categories`,
`GET /categories/{slug}`) show their progress, so the analytics domain serves them."""

from __future__ import annotations

from chalicelib.core.http import Call, endpoint
from chalicelib.core.security import Role
from chalicelib.taxonomy import service
from chalicelib.taxonomy.schemas import CategoryOut, NodeCreate, NodeUpdate, SubcategoryOut

TAGS = ("taxonomy",)
EDITORS = (Role.EDITOR,)
STAFF_ERRORS = (400, 401, 403, 404, 409, 422)


@endpoint(
    "/categories",
    "POST",
    summary="Create a category",
    tags=TAGS,
    roles=EDITORS,
    body=NodeCreate,
    response=CategoryOut,
    status=201,
    errors=STAFF_ERRORS,
)
def create_category(call: Call) -> CategoryOut:
    return service.create_category(call.user, call.body)


@endpoint(
    "/categories/{slug}",
    "PATCH",
    summary="Rename, reorder or retire a category",
    tags=TAGS,
    roles=EDITORS,
    body=NodeUpdate,
    response=CategoryOut,
    errors=STAFF_ERRORS,
)
def update_category(call: Call) -> CategoryOut:
    return service.update_category(call.user, call.params["slug"], call.body)


@endpoint(
    "/categories/{slug}",
    "DELETE",
    summary="Delete a category that never had questions",
    tags=TAGS,
    roles=EDITORS,
    status=204,
    errors=STAFF_ERRORS,
)
def delete_category(call: Call) -> None:
    service.delete_category(call.user, call.params["slug"])


@endpoint(
    "/categories/{slug}/subcategories",
    "POST",
    summary="Create a subcategory",
    tags=TAGS,
    roles=EDITORS,
    body=NodeCreate,
    response=SubcategoryOut,
    status=201,
    errors=STAFF_ERRORS,
)
def create_subcategory(call: Call) -> SubcategoryOut:
    return service.create_subcategory(call.user, call.params["slug"], call.body)


@endpoint(
    "/categories/{slug}/subcategories/{sub}",
    "PATCH",
    summary="Rename, reorder or retire a subcategory",
    tags=TAGS,
    roles=EDITORS,
    body=NodeUpdate,
    response=SubcategoryOut,
    errors=STAFF_ERRORS,
)
def update_subcategory(call: Call) -> SubcategoryOut:
    return service.update_subcategory(call.user, call.params["slug"], call.params["sub"], call.body)


@endpoint(
    "/categories/{slug}/subcategories/{sub}",
    "DELETE",
    summary="Delete a subcategory that never had questions",
    tags=TAGS,
    roles=EDITORS,
    status=204,
    errors=STAFF_ERRORS,
)
def delete_subcategory(call: Call) -> None:
    service.delete_subcategory(call.user, call.params["slug"], call.params["sub"])
