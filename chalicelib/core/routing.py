"""Routes registered without importing their domains.

app.py registers every API route from the route index (`chalicelib/route_index.py`, generated from
the domains' own `endpoint` declarations by `make routes` and checked by a test), and a route's
module is imported on its first request. A cold start then pays for Chalice and this module only;
the first request adds the edge (pydantic, the token check) and the one domain it needs, never the
others. This module imports nothing heavier than Chalice: keep it that way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

from chalice.app import Chalice, Request, Response

# method, path (without the API prefix), module declaring it, view name, accepted content types
Route = tuple[str, str, str, str, tuple[str, ...]]
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
API_PREFIX = "/api/v1"

_first_request_setup: list[Callable[[], None]] = []
_ready = False


def before_first_request(setup: Callable[[], None]) -> Callable[[], None]:
    """Work every request depends on but the import should not pay for (wiring the session check)."""
    _first_request_setup.append(setup)
    return setup


def _ensure_ready() -> None:
    global _ready
    if not _ready:
        for setup in _first_request_setup:
            setup()
        _ready = True


def register_routes(app: Chalice, prefix: str, routes: Iterable[Route]) -> None:
    for method, path, module, name, content_types in routes:
        view = _lazy_view(app, method, path, module)
        app.route(prefix + path, methods=[method], content_types=list(content_types), name=name)(view)


def _lazy_view(app: Chalice, method: str, path: str, module: str) -> Callable[..., Response]:
    def view(**params: str) -> Response:
        _ensure_ready()
        importlib.import_module(module)  # declares its endpoints on first import, a lookup after
        from chalicelib.core.http import HANDLERS

        request = app.current_request
        if request is None:  # Chalice sets it before calling any view
            raise RuntimeError("a view ran outside a request")
        return HANDLERS[(method, path)](request, params)

    return view


def load_all(routes: Iterable[Route]) -> None:
    """Import every route module: for what needs every declaration (the OpenAPI document)."""
    for module in sorted({route[2] for route in routes}):
        importlib.import_module(module)


def http_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    from chalicelib.core.http import http_middleware as middleware

    return middleware(request, get_response)


# --- routes every path gets: 405 for unsupported methods, OPTIONS for CORS preflight -------------


def install_method_fallbacks(app: Chalice) -> None:
    """Give every path a JSON 405 for the methods it lacks and a CORS preflight answer.

    Registered as real routes so API Gateway and the local gateway behave the same."""
    for path, routes in list(app.routes.items()):
        supported = sorted(routes)
        for method in HTTP_METHODS:
            if method not in routes:
                _register(app, path, method, _method_not_allowed(supported))
        if "OPTIONS" not in routes:
            _register(app, path, "OPTIONS", _preflight(app, supported))


def _register(app: Chalice, path: str, method: str, view: Callable[..., Response]) -> None:
    name = f"fallback_{method.lower()}_{abs(hash(path))}"
    app.route(path, methods=[method], content_types=["*/*"], name=name)(view)


def _method_not_allowed(supported: list[str]) -> Callable[..., Response]:
    def view(**_: str) -> Response:
        from chalicelib.core.http import method_not_allowed

        return method_not_allowed(supported)

    return view


def _preflight(app: Chalice, supported: list[str]) -> Callable[..., Response]:
    def view(**_: Any) -> Response:
        from chalicelib.core.http import preflight

        return preflight(app.current_request, supported)

    return view
