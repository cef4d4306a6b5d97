"""The Chalice app behind a WSGI callable, so schemathesis can call it in-process (against moto)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from chalice.config import Config
from chalice.local import LocalGateway


def wsgi_app(app: Any) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    gateway = LocalGateway(app, Config(chalice_stage="test"))

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        # The server decoded the path; re-encode it so a '?' or '#' inside an id stays in the path,
        # as API Gateway keeps it, instead of starting a query string.
        path = quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        response = gateway.handle_request(environ["REQUEST_METHOD"], path, headers, body)
        status = int(response["statusCode"])
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        raw = response.get("body") or b""
        payload = raw.encode() if isinstance(raw, str) else bytes(raw)
        start_response(f"{status} {phrase}", [(k, str(v)) for k, v in response["headers"].items()])
        return [payload]

    return application
