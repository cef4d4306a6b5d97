"""What every client sees at the edge: JSON errors, security headers, CORS, OpenAPI and docs."""

from __future__ import annotations

import pytest

from tests.support.accounts import register

ORIGIN = "https://app.openmrcs.test"


def assert_error_envelope(response, status: int, code: str) -> None:
    assert response.status == status, response
    assert response.headers["content-type"].startswith("application/json")
    body = response.json
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["details"], list)
    assert body["request_id"]


def test_malformed_json_is_400(client):
    response = client.post("/auth/login", raw=b'{"email": "a@example.com", ')
    assert_error_envelope(response, 400, "malformed_request")


def test_empty_body_is_400(client):
    assert_error_envelope(client.post("/auth/login", raw=b""), 400, "malformed_request")


def test_non_object_body_is_422(client):
    assert_error_envelope(client.post("/auth/login", [1, 2]), 422, "validation_error")


def test_oversize_body_is_413(client):
    response = client.post("/auth/login", raw=b'{"email": "' + b"a" * 300_000 + b'"}')
    assert_error_envelope(response, 413, "payload_too_large")


def test_unknown_route_is_json_404(client):
    assert_error_envelope(client.get("/no/such/thing"), 404, "not_found")
    assert_error_envelope(client.get("/no/such/thing", token="x"), 404, "not_found")


def test_wrong_method_is_json_405_with_allow(client):
    response = client.request("DELETE", "/auth/login")
    assert_error_envelope(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]


def test_wrong_content_type_is_json_415(client):
    response = client.post("/auth/login", {"email": "a@example.com"}, headers={"Content-Type": "text/plain"})
    assert_error_envelope(response, 415, "unsupported_media_type")


def test_unexpected_failure_is_json_500_without_internals(client, monkeypatch):
    from chalicelib.accounts import service

    def explode(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(service, "login", explode)
    response = client.post("/auth/login", {"email": "a@example.com", "password": "whatever-123"})
    assert_error_envelope(response, 500, "internal_error")
    assert b"hunter2" not in response.body


@pytest.mark.parametrize("path", ["/health", "/me", "/no/such/route"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    headers = response.headers
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_request_id_header_matches_error_body(client):
    response = client.get("/me")
    assert response.headers["x-request-id"] == response.json["request_id"]


def test_cors_only_for_configured_origins(client):
    allowed = client.get("/health", headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    other = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_preflight(client):
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    allowed = client.request("OPTIONS", "/auth/login", headers=headers)
    assert allowed.status == 204
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    denied = client.request("OPTIONS", "/auth/login", headers={**headers, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_openapi_document_covers_every_route(client):
    from app import app

    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    declared = {
        (path.removeprefix("/api/v1"), method.lower())
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if not entry.view_name.startswith("fallback_") and path.startswith("/api/v1")  # not the console's files
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert declared == documented
    login = document["paths"]["/auth/login"]["post"]
    schema_name = login["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(document["components"]["schemas"][schema_name]["properties"]) == {"email", "password"}
    assert "429" in login["responses"]
    role_route = document["paths"]["/admin/users/{user_id}"]["patch"]
    assert role_route["x-roles"] == ["admin"] and "403" in role_route["responses"]


def test_docs_page_uses_only_this_deployments_files(client):
    """Swagger UI comes from the deployment itself (works offline); no inline script."""
    import re

    response = client.get("/docs")
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    page = response.body.decode()
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http://" not in page and "https://" not in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert all(s.startswith("/docs-assets/") or s == "data:," for s in sources), sources
    assert all("<script src=" in tag for tag in re.findall(r"<script[^>]*>", page))  # no inline script
    for source in sources[1:]:
        asset = client.raw.http.request("GET", source, headers={}, body=b"")
        assert asset.status_code == 200, source
    assert client.raw.http.request("GET", "/docs-assets/../app.py", headers={}, body=b"").status_code == 404


def test_every_example_matches_its_schema():
    """The reference shows the spec's examples: each must be what the API really accepts or returns."""
    from pydantic import TypeAdapter

    from chalicelib.core.http import ENDPOINTS
    from chalicelib.core.routing import load_all
    from chalicelib.route_index import ROUTES

    load_all(ROUTES)
    shown = [spec for spec in ENDPOINTS if spec.example_request is not None or spec.example_response is not None]
    assert {f"{s.method} {s.path}" for s in shown} >= {"POST /auth/login", "GET /dashboard", "GET /categories"}
    for spec in shown:
        if spec.example_request is not None:
            assert spec.body is not None, spec.path  # an example request implies a body model
            TypeAdapter(spec.body).validate_python(spec.example_request)
        if spec.example_response is not None:
            TypeAdapter(spec.response).validate_python(spec.example_response)


def test_auth_responses_are_not_cached(client):
    account = register(client)
    assert client.post("/auth/refresh", {"refresh": account["refresh"]}).headers["cache-control"] == "no-store"
