"""HTTP routes of the resources domain."""

from __future__ import annotations

from chalicelib.core.http import Call, endpoint
from chalicelib.core.pagination import Page
from chalicelib.core.security import Role
from chalicelib.resources import service
from chalicelib.resources.schemas import ResourceIn, ResourceOut, ResourcePatch, ResourceQuery

TAGS = ("resources",)
EDITORS = (Role.EDITOR,)
STAFF_ERRORS = (400, 401, 403, 404, 409, 422)


@endpoint(
    "/resources",
    "GET",
    summary="Published resources, newest first (featured, by category, by kind)",
    tags=TAGS,
    auth="optional",
    query=ResourceQuery,
    response=Page[ResourceOut],
    errors=(400, 403, 422),
)
def list_resources(call: Call) -> Page[ResourceOut]:
    return service.list_resources(call.principal, call.query)


@endpoint(
    "/resources/{resource_id}",
    "GET",
    summary="One resource",
    tags=TAGS,
    auth="optional",
    response=ResourceOut,
    errors=(404,),
)
def get_resource(call: Call) -> ResourceOut:
    return service.get_resource(call.principal, call.params["resource_id"])


@endpoint(
    "/resources",
    "POST",
    summary="Create a resource",
    tags=TAGS,
    roles=EDITORS,
    body=ResourceIn,
    response=ResourceOut,
    status=201,
    errors=STAFF_ERRORS,
)
def create_resource(call: Call) -> ResourceOut:
    return service.create_resource(call.user, call.body)


@endpoint(
    "/resources/{resource_id}",
    "PATCH",
    summary="Edit, publish or feature a resource",
    tags=TAGS,
    roles=EDITORS,
    body=ResourcePatch,
    response=ResourceOut,
    errors=STAFF_ERRORS,
)
def update_resource(call: Call) -> ResourceOut:
    return service.update_resource(call.user, call.params["resource_id"], call.body)


@endpoint(
    "/resources/{resource_id}",
    "DELETE",
    summary="Delete a resource",
    tags=TAGS,
    roles=EDITORS,
    status=204,
    errors=STAFF_ERRORS,
)
def delete_resource(call: Call) -> None:
    service.delete_resource(call.user, call.params["resource_id"])
