"""Test wiring: a fresh moto table per test, the chalice test client, and a guard against Scan."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_TMP = Path(tempfile.mkdtemp(prefix="openmrcs-tests-"))
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_REGION": "eu-west-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TABLE_NAME": "openmrcs-test",
        "STAGE": "test",
        "JWT_SECRET": "test-signing-secret-that-is-long-enough-0123456789",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "openmrcs",
        "POWERTOOLS_METRICS_NAMESPACE": "OpenMRCS",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "EMAIL_BACKEND": "outbox",
        "OUTBOX_PATH": str(_TMP / "outbox.jsonl"),
        "CORS_ALLOWED_ORIGINS": "https://app.openmrcs.test",
        "TASK_BACKEND": "deferred",
        "BILLING_WEBHOOK_SECRET": "whsec_test_0123456789abcdef0123456789abcdef",
    }
)
os.environ.pop("DYNAMODB_ENDPOINT_URL", None)

import boto3  # noqa: E402
import pytest  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import app, load_jobs, load_stream_consumers  # noqa: E402
from chalicelib.core.cache import reset_all_caches  # noqa: E402
from chalicelib.core.config import get_settings  # noqa: E402
from chalicelib.core.table_schema import create_table  # noqa: E402
from chalicelib.core.tasks import discard_pending  # noqa: E402
from local_stack import gateway, moto_patches  # noqa: E402
from local_stack.meter import Meter, metering  # noqa: E402
from local_stack.streams import StreamPoller  # noqa: E402
from tests.support.guards import assert_no_scan  # noqa: E402

gateway.install()
load_jobs()  # the scheduled handlers load these on their first run; tests call the jobs directly
load_stream_consumers()


moto_patches.install()
# A directory with no .chalice/: the test client must not pull a deploy stage's environment in.
_NO_CONFIG_DIR = str(_TMP)


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Every per-container cache starts empty: no test sees another's taxonomy or resources; and
    no task one test queued runs in the next."""
    reset_all_caches()
    discard_pending()
    yield
    reset_all_caches()
    discard_pending()


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    with mock_aws():
        create_table(boto3.client("dynamodb"), get_settings().table_name)
        boto3.client("s3").create_bucket(
            Bucket=get_settings().export_bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        outbox = Path(get_settings().outbox_path)
        if outbox.exists():
            outbox.unlink()
        yield


@pytest.fixture(autouse=True)
def no_scan(request: pytest.FixtureRequest) -> Iterator[Meter]:
    """Fails any test whose code under test issued a Scan (request paths must Query or GetItem)."""
    with metering(capacity=False) as meter:
        yield meter
    if "allow_scan" not in request.keywords:
        assert_no_scan(meter)


@pytest.fixture
def client() -> Iterator[Any]:
    with Client(app, stage_name="test", project_dir=_NO_CONFIG_DIR) as test_client:
        yield ApiClient(test_client)


class ApiClient:
    """JSON convenience over chalice's test client, for /api/v1 paths."""

    def __init__(self, client: Any) -> None:
        self.raw = client

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Response:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response = self.raw.http.request(method, "/api/v1" + path, headers=all_headers, body=payload)
        return Response(response.status_code, dict(response.headers), response.body)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.request("PATCH", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self) -> str:
        return str(self.json["error"]["code"])

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.body[:300]!r}>"


@pytest.fixture
def stream() -> StreamPoller:
    """Delivers the table's stream records to app.py's handler, as Lambda would."""
    return StreamPoller(get_settings().table_name, app.handler_map["table_stream"])


@pytest.fixture
def outbox() -> Any:
    from chalicelib.core.email import OutboxEmailSender

    return OutboxEmailSender(get_settings().outbox_path)
