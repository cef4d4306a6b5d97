"""Health, the OpenAPI document and the offline docs page."""

from __future__ import annotations

from chalice.app import Response
from pydantic import BaseModel

from chalicelib.core.config import get_settings
from chalicelib.core.http import DOCS_CSP, Call, Headers, endpoint, json_response
from chalicelib.system.console import path_prefix
from chalicelib.system.openapi import docs_page, openapi_document

SYSTEM = ("system",)


class Health(BaseModel):
    status: str
    stage: str


@endpoint("/health", "GET", summary="Liveness check", tags=SYSTEM, auth="public", response=Health)
def health(call: Call) -> Health:
    return Health(status="ok", stage=get_settings().stage)


@endpoint("/openapi.json", "GET", summary="This API's OpenAPI 3.1 document", tags=SYSTEM, auth="public")
def openapi(call: Call) -> Response:
    return json_response(200, openapi_document(), headers={"Cache-Control": "public, max-age=300"})


@endpoint("/docs", "GET", summary="Human-readable API reference (works offline)", tags=SYSTEM, auth="public")
def docs(call: Call) -> Response:
    headers: Headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": DOCS_CSP}
    return Response(body=docs_page(path_prefix(call.request)), status_code=200, headers=headers)
