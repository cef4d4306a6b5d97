"""Make chalice's local gateway answer unknown routes as the deployed API does.

Deployed, API Gateway's MISSING_AUTHENTICATION_TOKEN gateway response is set to this same JSON 404
by infra/post_deploy.py; locally, chalice would answer 403 'Missing Authentication Token'."""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalice import local

from chalicelib.core.http import NOT_FOUND_MESSAGE, SECURITY_HEADERS

_original_handle_request = local.LocalGateway.handle_request


def not_found_response(request_id: str) -> dict[str, Any]:
    body = {"error": {"code": "not_found", "message": NOT_FOUND_MESSAGE, "details": []}, "request_id": request_id}
    headers = {**SECURITY_HEADERS, "Content-Type": "application/json", "X-Request-Id": request_id}
    return {"statusCode": 404, "headers": headers, "multiValueHeaders": {}, "body": json.dumps(body)}


def _handle_request(self: local.LocalGateway, method: str, path: str, headers: Any, body: Any) -> Any:
    try:
        return _original_handle_request(self, method, path, headers, body)
    except local.ForbiddenError as exc:
        body = exc.body or b""
        if b"Missing Authentication Token" in body or b"Authorization header requires" in body:
            return not_found_response(str(uuid.uuid4()))
        raise


def install() -> None:
    local.LocalGateway.handle_request = _handle_request  # type: ignore[method-assign]
