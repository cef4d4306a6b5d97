"""The staff console's static files, served by the API's own deployment at /console/.

Light on purpose (the app imports it at a cold start): no pydantic, no table. The page talks only to
the public JSON API; its Content-Security-Policy admits scripts, styles and requests from this
origin alone (no inline script, no third-party origin), and no framing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalice.app import Chalice, Response

ASSETS = Path(__file__).resolve().parents[1] / "console"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@lru_cache(maxsize=32)
def _asset(name: str) -> tuple[str, str] | None:
    """An asset by its file name (no directories: nothing else on disk is reachable)."""
    if "/" in name or "\\" in name or name.startswith(".") or Path(name).suffix not in TYPES:
        return None
    path = ASSETS / name
    return (path.read_text(encoding="utf-8"), TYPES[path.suffix]) if path.is_file() else None


def _response(name: str) -> Response:
    found = _asset(name)
    if found is None:
        body = '{"error":{"code":"not_found","message":"No such console file.","details":[]}}'
        return Response(body=body, status_code=404, headers={"Content-Type": "application/json"})
    content, content_type = found
    caching = "no-cache" if name == "index.html" else "public, max-age=300"
    headers: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "Content-Security-Policy": CONSOLE_CSP,
        "Cache-Control": caching,
    }
    return Response(body=content, status_code=200, headers=headers)


def add_console_routes(app: Chalice) -> None:
    @app.route("/console", methods=["GET"], name="console_index")
    def console_index() -> Response:
        return _response("index.html")

    @app.route("/console/{name}", methods=["GET"], name="console_asset")
    def console_asset(name: str) -> Response:
        return _response(name)
