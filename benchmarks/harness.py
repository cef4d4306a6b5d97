"""A moto-backed API for benchmarks, with every request metered."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

BENCH_ENV = {
    "AWS_DEFAULT_REGION": "eu-west-2",
    "AWS_REGION": "eu-west-2",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "TABLE_NAME": "openmrcs-bench",
    "STAGE": "bench",
    "JWT_SECRET": "bench-signing-secret-that-is-long-enough-0123456789",
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_KIB": "1024",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "EMAIL_BACKEND": "outbox",
    "TASK_BACKEND": "deferred",
    "OUTBOX_PATH": os.path.join(tempfile.mkdtemp(prefix="openmrcs-bench-"), "outbox.jsonl"),
}


def configure() -> None:
    os.environ.update(BENCH_ENV)
    os.environ.pop("DYNAMODB_ENDPOINT_URL", None)


@dataclass
class Measured:
    status: int
    body: Any
    operations: dict[str, int]
    rcu: float
    wcu: float


class Api:
    def __init__(self, client: Any) -> None:
        self._client = client

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None, *, capacity: bool = True
    ) -> Measured:
        """One request, metered: operations always, capacity units unless `capacity` is False (sizing
        them reads items again, which a latency measurement must not include)."""
        from local_stack.meter import metering

        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = b"" if body is None else json.dumps(body).encode()
        with metering(capacity=capacity) as meter:
            response = self._client.http.request(method, "/api/v1" + path, headers=headers, body=payload)
        parsed = json.loads(response.body) if response.body else None
        return Measured(response.status_code, parsed, dict(meter.operations), meter.rcu, meter.wcu)


BENCH_PASSWORD = "Bench-Password-2026"


def signed_in(api: Api, email: str, role: str, name: str = "Bench") -> str:
    """An account made directly (no verification mail) and its access token, through the API."""
    from chalicelib.accounts.service import provision_user
    from chalicelib.core.security import Role

    provision_user(email, BENCH_PASSWORD, name, Role(role))
    login = api.call("POST", "/auth/login", {"email": email, "password": BENCH_PASSWORD})
    return str(login.body["access"])


def create_categories(api: Api, token: str, slugs: tuple[str, ...]) -> None:
    for order, slug in enumerate(slugs):
        api.call("POST", "/categories", {"slug": slug, "name": slug.title(), "order": order}, token)


@contextmanager
def api() -> Iterator[Api]:
    configure()
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.core.config import get_settings
    from chalicelib.core.table_schema import create_table
    from local_stack import moto_patches

    moto_patches.install()
    with mock_aws():
        create_table(boto3.client("dynamodb"), get_settings().table_name)
        with Client(app, stage_name="bench", project_dir=tempfile.mkdtemp()) as client:
            yield Api(client)
