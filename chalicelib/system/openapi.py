"""Builds the OpenAPI 3.1 document from the endpoint declarations and their pydantic models."""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from chalicelib.core.http import API_PREFIX, ENDPOINTS, Endpoint
from chalicelib.core.routing import load_all
from chalicelib.route_index import ROUTES

REF = "#/components/schemas/{model}"
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
            "description": (
                "Question bank, Practice Mode, mock exams and progress analytics for MRCS candidates. "
                "Every id is an opaque string: store it and send it back; never parse it or assume a number."
            ),
        },
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
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
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_for(spec.body, key_map)}},
        }
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
        success["content"] = {"application/json": {"schema": _schema_for(spec.response, key_map)}}
    responses: dict[str, Any] = {str(spec.status): success}
    implied = {401} if spec.auth == "user" else set()
    if spec.roles:
        implied.add(403)
    for status in sorted(set(spec.errors) | implied):
        responses[str(status)] = {
            "description": STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
    return responses


def docs_page() -> str:
    """A self-contained HTML reference of the API: no scripts, no fonts, no network."""
    document = openapi_document()
    sections = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            sections.append(_operation_html(path, method, operation))
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
        "section{border-top:1px solid #ddd;padding:.6rem 0}code{background:#f3f3f3;padding:0 .2rem}"
        ".m{display:inline-block;min-width:4.5rem;font-weight:700}details pre{background:#f7f7f7;padding:.5rem;"
        "overflow:auto}"
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>OpenMRCS API</title>"
        f"<style>{style}</style></head><body><h1>OpenMRCS API</h1>"
        f"<p>{html.escape(document['info']['description'])} Base path <code>{API_PREFIX}</code>. "
        "Machine-readable: <a href='openapi.json'>openapi.json</a>.</p>" + "".join(sections) + "</body></html>"
    )


def _operation_html(path: str, method: str, operation: dict[str, Any]) -> str:
    roles = operation.get("x-roles")
    auth = "public" if "security" not in operation else ("roles: " + ", ".join(roles) if roles else "signed in")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    statuses = ", ".join(operation["responses"])
    parts = [
        f"<section><h3><span class='m'>{method.upper()}</span><code>{html.escape(path)}</code></h3>",
        f"<p>{html.escape(operation['summary'])} <small>({html.escape(auth)}; responses {statuses})</small></p>",
    ]
    if body:
        parts.append(
            f"<details><summary>Request body</summary><pre>{html.escape(json.dumps(body, indent=1))}</pre></details>"
        )
    return "".join(parts) + "</section>"
