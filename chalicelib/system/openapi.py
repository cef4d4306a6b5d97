"""Builds the OpenAPI 3.1 document from the endpoint declarations and their pydantic models."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from chalicelib.core.http import API_PREFIX, ENDPOINTS, Endpoint
from chalicelib.core.routing import load_all
from chalicelib.route_index import ROUTES

REF = "#/components/schemas/{model}"
AUTH_GUIDE = """Question bank, Practice Mode, mock exams, progress analytics and notifications for MRCS candidates.

**Authenticating.** `POST /auth/login` with `{"email", "password"}` answers `{"access", "refresh"}`
(or, for an account with two-factor sign-in, a `challenge` to send with a code to `POST /auth/2fa`).
Send the access token as `Authorization: Bearer <access>` (here: the Authorize button). It lives 15
minutes; `POST /auth/refresh` with `{"refresh"}` answers a new pair (the old refresh token stops
working). `POST /auth/logout` ends the device's session everywhere.

**Errors** share one envelope: `{"error": {"code", "message", "details": [{"field", "message", "type"}]},
"request_id"}`; `details` names the fields of a 422.

**Ids** are opaque strings: store them and send them back; never parse them or assume a number."""
STATUS_TEXT = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Forbidden for this role",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Rate limited",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "request_id"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        },
        "request_id": {"type": "string"},
    },
}


# Ids are opaque strings (time-ordered hex today): clients store and send them back, never parse them.
PATH_PARAMETER = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
PATH_DESCRIPTION = "An opaque string id or slug: store it and send it back; never parse it."


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    load_all(ROUTES)  # routes are imported by their first request; the document needs them all
    models = _collect_models()
    key_map, definitions = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for spec in ENDPOINTS:
        paths.setdefault(_openapi_path(spec.path), {})[spec.method.lower()] = _operation(spec, key_map)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OpenMRCS API",
            "version": "1.0.0",
            "description": AUTH_GUIDE,
        },
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `access` token of POST /auth/login (15 minutes; POST /auth/refresh renews).",
                }
            },
        },
    }


def _collect_models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for spec in ENDPOINTS:
        for candidate in (spec.body, spec.query, *_models_in(spec.response)):
            if candidate is not None:
                found[f"{candidate.__module__}.{candidate.__qualname__}"] = candidate
    return list(found.values())


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+)\+?\}", r"{\1}", path)


def _schema_for(annotation: Any, key_map: dict[Any, Any]) -> dict[str, Any]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dict(key_map[(annotation, "validation")])
    schema = TypeAdapter(annotation).json_schema(ref_template=REF)
    schema.pop("$defs", None)
    return schema


def _operation(spec: Endpoint, key_map: dict[Any, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": spec.name,
        "summary": spec.summary,
        "tags": list(spec.tags),
        "parameters": _parameters(spec, key_map),
        "responses": _responses(spec, key_map),
    }
    if spec.auth != "public":
        operation["security"] = [{"bearer": []}] if spec.auth == "user" else [{"bearer": []}, {}]
    if spec.roles:
        operation["x-roles"] = [role.value for role in spec.roles]
    if spec.body is not None:
        body: dict[str, Any] = {"schema": _schema_for(spec.body, key_map)}
        if spec.example_request is not None:
            body["example"] = spec.example_request
        operation["requestBody"] = {"required": True, "content": {"application/json": body}}
    return operation


def _parameters(spec: Endpoint, key_map: dict[Any, Any]) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETER, "description": PATH_DESCRIPTION}
        for name in re.findall(r"\{(\w+)\}", spec.path)
    ]
    if spec.query is not None:
        # The model's own schema carries every bound (minimum, maximum, pattern, enum) per field.
        properties = spec.query.model_json_schema(ref_template=REF, by_alias=True).get("properties", {})
        for name, field in spec.query.model_fields.items():
            alias = field.alias or name
            schema = dict(properties.get(alias) or TypeAdapter(field.annotation or Any).json_schema(ref_template=REF))
            schema.pop("title", None)
            parameters.append(
                {
                    "name": alias,
                    "in": "query",
                    "required": field.is_required(),
                    "schema": schema,
                    **({"description": field.description} if field.description else {}),
                }
            )
    return parameters


def _responses(spec: Endpoint, key_map: dict[Any, Any]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "Success"}
    if spec.response is not None and spec.status != 204:
        content: dict[str, Any] = {"schema": _schema_for(spec.response, key_map)}
        if spec.example_response is not None:
            content["example"] = spec.example_response
        success["content"] = {"application/json": content}
    responses: dict[str, Any] = {str(spec.status): success}
    implied = {401} if spec.auth == "user" else set()
    if spec.roles:
        implied.add(403)
    for status in sorted(set(spec.errors) | implied):
        error = {"schema": {"$ref": REF.format(model="Error")}, "example": _error_example(status)}
        responses[str(status)] = {
            "description": STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": error},
        }
    return responses


def _error_example(status: int) -> dict[str, Any]:
    """Every error has the same envelope; a 422 names the field."""
    code = {
        400: "malformed_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        413: "payload_too_large",
        415: "unsupported_media_type",
        422: "validation_error",
        429: "rate_limited",
        503: "service_busy",
    }.get(status, "error")
    details = [{"field": "email", "message": "value is not a valid email address", "type": "value_error"}]
    return {
        "error": {
            "code": code,
            "message": STATUS_TEXT.get(status, "Error") + ".",
            "details": details if status == 422 else [],
        },
        "request_id": "5f0c2a9e-1d4b-4c8e-9a47-3f1e2b7c6d10",
    }


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenMRCS API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{prefix}/docs-assets/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-spec="{prefix}/api/v1/openapi.json"></main>
<script src="{prefix}/docs-assets/swagger-ui-bundle.js"></script>
<script src="{prefix}/docs-assets/docs.js"></script>
</body>
</html>
"""


def docs_page(prefix: str) -> str:
    """The API reference: Swagger UI (vendored, pinned: chalicelib/system/apidocs/) rendering the
    OpenAPI document, grouped by tag, with the examples and an Authorize button for a bearer token."""
    return DOCS_PAGE.format(prefix=prefix)
