"""Static files served by the API's own deployment: the staff console at /console (its page, script
and style) and the API reference's renderer at /docs-assets (Swagger UI, vendored: works offline).

Light on purpose (the app imports it at a cold start): no pydantic, no table. Pages name their
files under the path prefix they were served from (API Gateway may put its stage first), so a
deployment behind any prefix works. The console's Content-Security-Policy admits scripts, styles and
requests from this origin alone (no inline script, no third-party origin), and no framing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalice.app import Chalice, Request, Response

PACKAGE = Path(__file__).resolve().parents[1]
MOUNTS = {"console": PACKAGE / "console", "docs-assets": Path(__file__).with_name("apidocs")}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
Headers = dict[str, str | list[str]]


def path_prefix(request: Request | None) -> str:
    """What precedes the app's own paths in the URL the client used ("" locally, "/api" behind a
    stage): the request's full path minus the route's path."""
    context = (request.context or {}) if request is not None else {}
    full, route = str(context.get("path") or ""), str(context.get("resourcePath") or "")
    if not route:
        return ""
    concrete = full.rstrip("/")
    depth = route.rstrip("/").count("/")
    parts = concrete.split("/")
    return "/".join(parts[: len(parts) - depth]) if len(parts) > depth else ""


@lru_cache(maxsize=32)
def _asset(mount: str, name: str) -> tuple[str, str] | None:
    """A file by its name within a mount (no directories: nothing else on disk is reachable)."""
    if "/" in name or "\\" in name or name.startswith(".") or Path(name).suffix not in TYPES:
        return None
    path = MOUNTS[mount] / name
    return (path.read_text(encoding="utf-8"), TYPES[path.suffix]) if path.is_file() else None


def _not_found() -> Response:
    body = '{"error":{"code":"not_found","message":"No such file.","details":[]}}'
    return Response(body=body, status_code=404, headers={"Content-Type": "application/json"})


def _file(mount: str, name: str, request: Request | None) -> Response:
    found = _asset(mount, name)
    if found is None:
        return _not_found()
    content, content_type = found
    headers: Headers = {"Content-Type": content_type, "Cache-Control": "public, max-age=300"}
    if mount == "console":
        headers["Content-Security-Policy"] = CONSOLE_CSP
    if name == "index.html":
        content = content.replace("{{PREFIX}}", path_prefix(request))
        headers["Cache-Control"] = "no-cache"
    return Response(body=content, status_code=200, headers=headers)


def add_console_routes(app: Chalice) -> None:
    @app.route("/console", methods=["GET"], name="console_index")
    def console_index() -> Response:
        return _file("console", "index.html", app.current_request)

    @app.route("/console/{name}", methods=["GET"], name="console_asset")
    def console_asset(name: str) -> Response:
        if name == "index.html":
            return _not_found()  # the page is /console (its prefix is filled in there)
        return _file("console", name, app.current_request)

    @app.route("/docs-assets/{name}", methods=["GET"], name="docs_asset")
    def docs_asset(name: str) -> Response:
        return _file("docs-assets", name, app.current_request)
