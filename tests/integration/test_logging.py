"""Structured logs carry the request id and user id, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.observability import SERVICE, logger
from tests.support.accounts import PASSWORD, register


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(SERVICE)
    std_logger.addHandler(handler)
    previous = std_logger.level
    std_logger.setLevel(logging.DEBUG)
    yield buffer
    std_logger.removeHandler(handler)
    std_logger.setLevel(previous)


def parsed(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]


def test_no_secret_reaches_the_log(client, outbox, log_lines):
    account = register(client, "secretive@example.com")
    client.post("/auth/login", {"email": "secretive@example.com", "password": "Wrong-password-9"})
    tokens = client.post("/auth/login", {"email": "secretive@example.com", "password": PASSWORD}).json
    rotated = client.post("/auth/refresh", {"refresh": tokens["refresh"]}).json
    client.post("/auth/forgot-password", {"email": "secretive@example.com"})
    found = re.search(r"token=([\w-]+)", outbox.messages()[-1]["body"])
    assert found is not None
    reset_token = found.group(1)
    client.post("/auth/reset-password", {"token": reset_token, "new_password": "Fresh-Password-55"})
    text = log_lines.getvalue()
    secrets = [
        PASSWORD,
        "Wrong-password-9",
        "Fresh-Password-55",
        reset_token,
        account["access"],
        account["refresh"],
        tokens["refresh"],
        rotated["access"],
    ]
    assert text, "expected some log output"
    for secret in secrets:
        assert secret not in text


def test_lines_carry_request_and_user_ids(client, log_lines):
    account = register(client)
    response = client.get("/me", token=account["access"])
    lines = [line for line in parsed(log_lines) if line.get("message") == "request completed"]
    me_line = lines[-1]
    assert me_line["correlation_id"] == response.headers["x-request-id"]
    assert me_line["user_id"] == account["user"]["id"]
    assert me_line["route"] == "/api/v1/me" and me_line["status"] == 200


def test_user_id_does_not_leak_into_the_next_request(client, log_lines):
    account = register(client)
    client.get("/me", token=account["access"])
    client.get("/health")
    last = [line for line in parsed(log_lines) if line.get("message") == "request completed"][-1]
    assert "user_id" not in last


def test_each_line_is_written_once_as_json():
    """Chalice puts its own plain-text handler on the logger named after the app, which is the
    logger powertools writes to: every line reached the log twice until the app stopped that."""
    import app  # noqa: F401 (constructing the Chalice app is what added the second handler)

    own = [h for h in logging.getLogger(SERVICE).handlers if getattr(h, "formatter", None) is not None]
    formats = {type(h.formatter).__name__ for h in own}
    assert formats and all("Powertools" in name for name in formats), formats
