"""The HTTP edge: every route is declared through `endpoint`, which parses and validates input with
pydantic, authenticates, checks roles, shapes the response and turns every failure into the JSON
error envelope. The same declarations feed the OpenAPI document, so the two cannot drift."""

from __future__ import annotations

import contextvars
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from chalice.app import Request, Response
from pydantic import BaseModel, TypeAdapter, ValidationError

from chalicelib.core.config import get_settings
from chalicelib.core.errors import (
    ApiError,
    DomainError,
    Forbidden,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    Unauthorized,
    from_validation_error,
)
from chalicelib.core.observability import logger, metrics
from chalicelib.core.routing import API_PREFIX as API_PREFIX
from chalicelib.core.security import (
    Principal,
    Role,
    principal_from_header,
    require_staff_two_factor,
    require_verified_email,
)

JSON_TYPES = ["application/json"]
MAX_JSON_BYTES = 256 * 1024
Auth = Literal["public", "optional", "user"]
Headers = dict[str, str | list[str]]

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
# Swagger UI styles elements inline (style attributes), so the reference page allows inline styles;
# scripts, fonts and requests stay on this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass
class Endpoint:
    """What one route accepts and returns; the OpenAPI document is generated from these."""

    method: str
    path: str
    name: str
    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    auth: Auth
    roles: tuple[Role, ...]
    no_store: bool
    content_types: list[str]
    errors: tuple[int, ...]
    max_body_bytes: int
    example_request: Any = None  # shown in the API reference (from the spec where it has one)
    example_response: Any = None
    _adapter: TypeAdapter[Any] | None = field(default=None, repr=False)

    def dump(self, result: Any) -> Any:
        if self.response is None:
            return None
        if self._adapter is None:
            self._adapter = TypeAdapter(self.response)
        return self._adapter.dump_python(result, mode="json")


ENDPOINTS: list[Endpoint] = []


@dataclass(frozen=True)
class Handler:
    """A declared endpoint and its function: what a route's view runs (see core/routing.py)."""

    spec: Endpoint
    fn: Callable[[Call], Any]

    def __call__(self, request: Request, params: dict[str, str]) -> Response:
        return _dispatch(request, self.spec, self.fn, params)


HANDLERS: dict[tuple[str, str], Handler] = {}  # (method, path) -> handler, filled as route modules load


@dataclass
class Call:
    """What a route function receives: the validated input and who is asking."""

    principal: Principal | None
    body: Any
    query: Any
    params: dict[str, str]
    request: Request

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise Unauthorized()
        return self.principal

    def header(self, name: str) -> str | None:
        value = self.request.headers.get(name)
        return None if value is None else str(value)

    @property
    def client_ip(self) -> str:
        """The caller's address as API Gateway saw it (not a forgeable X-Forwarded-For)."""
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "unknown")

    @property
    def raw_body(self) -> bytes:
        raw = self.request.raw_body or b""
        return raw.encode() if isinstance(raw, str) else bytes(raw)


def endpoint(
    path: str,
    method: str = "GET",
    *,
    summary: str,
    tags: tuple[str, ...] = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    auth: Auth = "user",
    roles: tuple[Role, ...] = (),
    no_store: bool = False,
    content_types: list[str] | None = None,
    errors: tuple[int, ...] = (),
    max_body_bytes: int = MAX_JSON_BYTES,
    name: str | None = None,
    example_request: Any = None,
    example_response: Any = None,
) -> Callable[[Callable[[Call], Any]], Callable[[Call], Any]]:
    """Declare a route. `name` (default: the function's) must be unique: one function may serve
    two paths under two names."""

    def register(fn: Callable[[Call], Any]) -> Callable[[Call], Any]:
        spec = Endpoint(
            method=method,
            path=path,
            name=name or fn.__name__,
            summary=summary,
            tags=tags,
            body=body,
            query=query,
            response=response,
            status=status,
            auth=auth,
            roles=roles,
            no_store=no_store,
            content_types=content_types or JSON_TYPES,
            errors=errors,
            max_body_bytes=max_body_bytes,
            example_request=example_request,
            example_response=example_response,
        )
        ENDPOINTS.append(spec)
        HANDLERS[(method, path)] = Handler(spec, fn)
        return fn

    return register


def _dispatch(request: Request, spec: Endpoint, fn: Callable[[Call], Any], params: dict[str, str]) -> Response:
    try:
        principal = _authenticate(spec, request)
        call = Call(
            principal=principal,
            body=_parse_body(spec, request),
            query=_parse_query(spec, request),
            params=params,
            request=request,
        )
        result = fn(call)
        if isinstance(result, Response):
            return result
        return json_response(spec.status, spec.dump(result), no_store=spec.no_store or principal is not None)
    except ApiError as exc:
        return error_response(exc)
    except DomainError as exc:
        return error_response(from_domain_error(exc))
    except Exception:
        logger.exception("unhandled error", extra={"route": f"{spec.method} {spec.path}"})
        return error_response(ApiError("An unexpected error occurred."), status=500, code="internal_error")


# The one table from a domain's refusal to the HTTP status a client sees.
DOMAIN_STATUS = {"not_found": 404, "conflict": 409, "invalid": 422, "forbidden": 403}


def from_domain_error(exc: DomainError) -> ApiError:
    error = ApiError(exc.message)
    error.status, error.code = DOMAIN_STATUS[exc.kind], exc.code()
    return error


SessionCheck = Callable[[Principal], Principal]
_session_checks: list[SessionCheck] = []


def install_session_check(check: SessionCheck) -> None:
    """Who decides whether a token's session is still live, and the user's current role: the
    accounts domain (wired in app.py, so this layer imports no domain)."""
    _session_checks[:] = [check]


def _authenticate(spec: Endpoint, request: Request) -> Principal | None:
    header = request.headers.get("authorization")
    if spec.auth == "public":
        return None
    principal = principal_from_header(header)
    if principal is not None:
        logger.append_keys(user_id=principal.user_id)
        for check in _session_checks:
            principal = check(principal)
    if spec.auth == "user" and principal is None:
        raise Unauthorized()
    if principal is not None and spec.roles and not principal.has_role(*spec.roles):
        raise Forbidden("Your role does not allow this action.")
    if principal is not None and spec.roles:
        require_verified_email(principal)
        require_staff_two_factor(principal)
    return principal


def _parse_body(spec: Endpoint, request: Request) -> Any:
    if spec.body is None:
        return None
    raw = request.raw_body or b""
    if len(raw) > spec.max_body_bytes:
        raise PayloadTooLarge(f"The request body exceeds {spec.max_body_bytes} bytes.")
    if not raw.strip():
        raise MalformedRequest("A JSON request body is required.")
    check_depth(raw)
    try:
        # Strict JSON mode: types must match the schema (no 0 for false, no "5" for 5), while
        # JSON's own forms (strings for enums, dates) are accepted.
        return spec.body.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise MalformedRequest("The request body is not valid JSON.") from exc
        raise from_validation_error(exc) from exc


MAX_JSON_DEPTH = 32


def parse_json(raw: bytes | str) -> Any:
    """Parse a request body; malformed or absurdly nested JSON is the client's error (400)."""
    check_depth(raw)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest("The request body is not valid JSON.") from exc


def check_depth(raw: bytes | str) -> None:
    """Refuse absurdly nested JSON before any parser recurses into it."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
    except UnicodeDecodeError as exc:
        raise MalformedRequest("The request body is not valid UTF-8 JSON.") from exc
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise MalformedRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")


def _nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, found in one pass before the parser recurses."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0  # cannot be deeper than the number of brackets: skip the scan
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _parse_query(spec: Endpoint, request: Request) -> Any:
    if spec.query is None:
        return None
    try:
        return spec.query.model_validate(dict(request.query_params or {}))
    except ValidationError as exc:
        raise from_validation_error(exc, source="query") from exc


def current_request_id() -> str:
    return _request_id.get()


def json_response(status: int, payload: Any, *, no_store: bool = False, headers: Headers | None = None) -> Response:
    all_headers: Headers = {"Content-Type": "application/json", **(headers or {})}
    if no_store:
        all_headers["Cache-Control"] = "no-store"
    if status == 204:
        return Response(body="", status_code=204, headers=all_headers)
    return Response(body=json.dumps(payload, separators=(",", ":")), status_code=status, headers=all_headers)


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}, "request_id": current_request_id()}


def error_response(exc: ApiError, *, status: int | None = None, code: str | None = None) -> Response:
    body = error_body(code or exc.code, exc.message, exc.details)
    return json_response(status or exc.status, body, no_store=True, headers=dict(exc.headers))


# --- middleware: request ids, security headers, CORS, error normalisation, access log -------------


def http_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id = _request_id_for(request)
    token = _request_id.set(request_id)
    logger.set_correlation_id(request_id)
    logger.remove_keys(["user_id"])
    started = time.perf_counter()
    try:
        response = _normalise_framework_error(get_response(request))
        _decorate(request, response, request_id)
        logger.info(
            "request completed",
            extra={
                "method": request.method,
                "route": request.context.get("resourcePath"),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
    finally:
        if metrics.metric_set:  # one EMF line for the request's metrics, when it recorded any
            metrics.flush_metrics()
        _request_id.reset(token)


def _request_id_for(request: Request) -> str:
    context_id = (request.context or {}).get("requestId")
    lambda_context = getattr(request, "lambda_context", None)
    return str(context_id or getattr(lambda_context, "aws_request_id", None) or uuid.uuid4())


_FRAMEWORK_CODES = {
    "UnsupportedMediaType": (415, "unsupported_media_type"),
    "MethodNotAllowedError": (405, "method_not_allowed"),
    "BadRequestError": (400, "malformed_request"),
}


def _normalise_framework_error(response: Response) -> Response:
    """Chalice answers a few failures itself ({"Code", "Message"}); re-shape them into our envelope."""
    body = response.body
    if not isinstance(body, dict) or "Code" not in body:
        return response
    status, code = _FRAMEWORK_CODES.get(str(body["Code"]), (response.status_code, "internal_error"))
    message = str(body.get("Message", "")) if status < 500 else "An unexpected error occurred."
    headers = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
    return json_response(status, error_body(code, message), no_store=True, headers=headers)


def _decorate(request: Request, response: Response, request_id: str) -> None:
    headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    headers["X-Request-Id"] = request_id
    origin = request.headers.get("origin")
    if origin and origin in get_settings().cors_origins:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
        headers["Access-Control-Expose-Headers"] = "X-Request-Id,Retry-After"
        headers["Vary"] = "Origin"


# --- what the fallback routes of core/routing.py answer ------------------------------------------


def method_not_allowed(supported: list[str]) -> Response:
    allow = ", ".join([*supported, "OPTIONS"])
    return error_response(MethodNotAllowed("This method is not supported on this route.", headers={"Allow": allow}))


def preflight(request: Request | None, supported: list[str]) -> Response:
    origin = request.headers.get("origin") if request else None
    headers: Headers = {"Allow": ", ".join([*supported, "OPTIONS"])}
    if origin and origin in get_settings().cors_origins:
        headers.update(
            {
                "Access-Control-Allow-Methods": ", ".join([*supported, "OPTIONS"]),
                "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key",
                "Access-Control-Max-Age": "600",
            }
        )
    return Response(body="", status_code=204, headers=headers)


NOT_FOUND_MESSAGE = "No route matches this path."
