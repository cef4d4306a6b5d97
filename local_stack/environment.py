"""The environment of the local stack: set before anything imports chalicelib's settings."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

LOCAL_DIR = Path(os.environ.get("OPENMRCS_LOCAL_DIR", ".local"))
DEFAULT_DYNAMODB_PORT = 8001

LOCAL_DEFAULTS = {
    "STAGE": "local",
    "TABLE_NAME": "openmrcs-local",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "AWS_REGION": "eu-west-2",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "EMAIL_BACKEND": "outbox",
    "OUTBOX_PATH": str(LOCAL_DIR / "outbox.jsonl"),
    "CORS_ALLOWED_ORIGINS": "http://localhost:3000,http://127.0.0.1:3000",
    "PUBLIC_APP_URL": "http://localhost:3000",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "TASK_BACKEND": "thread",
}


def configure(*, dynamodb_port: int | None = None) -> None:
    """Fill in whatever the developer did not set; never overrides an explicit variable."""
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("JWT_SECRET", _local_secret("jwt-secret"))
    os.environ.setdefault("BILLING_WEBHOOK_SECRET", "whsec_" + _local_secret("billing-webhook-secret"))
    port = dynamodb_port or int(os.environ.get("LOCAL_DYNAMODB_PORT", DEFAULT_DYNAMODB_PORT))
    os.environ.setdefault("DYNAMODB_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    os.environ.setdefault("S3_ENDPOINT_URL", os.environ["DYNAMODB_ENDPOINT_URL"])  # moto serves both


def _local_secret(name: str) -> str:
    """A random secret per checkout, kept out of the repository in .local/."""
    path = LOCAL_DIR / name
    if not path.exists():
        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
