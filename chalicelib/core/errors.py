"""The API's error vocabulary: every failure a client sees is one of these, rendered as JSON."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError


class ConfigurationError(RuntimeError):
    """The deployment is misconfigured; never shown to clients in detail."""


class DomainError(Exception):
    """An outcome a domain's rules refuse (a conflict, a missing thing), said without HTTP.

    Services raise these; the HTTP edge maps `kind` to a status in one table (`core.http`), and
    jobs catch them by class. The code a client sees is the class name in snake case."""

    kind = "invalid"  # not_found | conflict | invalid | forbidden

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def code(cls) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}


class PaymentRequired(ApiError):
    status, code = 402, "plan_required"


class MalformedRequest(ApiError):
    status, code = 400, "malformed_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"

    def __init__(self, message: str = "Authentication required.", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="openmrcs"'})
        super().__init__(message, **kwargs)


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class EmailNotVerified(ApiError):
    status, code = 403, "email_not_verified"

    def __init__(self, message: str = "Verify your email address first: we sent you a link.") -> None:
        super().__init__(message)


class TwoFactorRequired(ApiError):
    status, code = 403, "two_factor_required"

    def __init__(self, message: str = "Turn on two-factor sign-in (POST /me/2fa/setup) to use staff tools.") -> None:
        super().__init__(message)


class NotFound(ApiError):
    status, code = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class Conflict(ApiError):
    status, code = 409, "conflict"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class Unprocessable(ApiError):
    status, code = 422, "validation_error"


class TooManyRequests(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after_sec: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_sec))})


class ServiceBusy(ApiError):
    """DynamoDB kept refusing a write for transient reasons (contention, throttling): retry later."""

    status, code = 503, "service_busy"

    def __init__(self, message: str, *, retry_after_sec: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_sec))})


def field_error(field: str, message: str, kind: str = "invalid") -> Unprocessable:
    return Unprocessable("The request is invalid.", details=[{"field": field, "message": message, "type": kind}])


def from_validation_error(exc: ValidationError, *, source: str = "body") -> Unprocessable:
    details = [
        {
            "field": ".".join(str(part) for part in error["loc"]) or source,
            "message": error["msg"],
            "type": error["type"],
        }
        for error in exc.errors(include_url=False, include_input=False)
    ]
    return Unprocessable(f"The request {source} is invalid.", details=details)
