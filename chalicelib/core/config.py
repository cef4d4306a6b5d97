"""Runtime settings, read once from the environment that `.chalice/config.json` sets per stage."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from chalicelib.core.errors import ConfigurationError

MIN_SECRET_BYTES = 32


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    region: str
    dynamodb_endpoint_url: str | None
    jwt_issuer: str
    jwt_audience: str
    jwt_algorithm: str
    access_token_ttl_sec: int
    refresh_token_ttl_sec: int
    cors_origins: tuple[str, ...]
    email_backend: str
    email_sender: str
    outbox_path: str
    public_app_url: str
    argon2_time_cost: int
    argon2_memory_kib: int
    allow_local_email_domains: bool = False
    task_backend: str = "lambda"
    # Dashboard rules (docs/analytics.md): a category is completed with at least N answers at X%;
    # suggestions need enough attempts and a low enough score.
    progress_min_answered: int = 10
    progress_min_score: float = 70.0
    suggest_min_attempts: int = 10
    suggest_low_score: float = 75.0
    suggest_max: int = 5
    heartbeat_daily_cap_sec: int = 16 * 3600
    login_max_failures: int = 5
    login_window_sec: int = 15 * 60
    lockout_sec: int = 15 * 60
    verify_token_ttl_sec: int = 24 * 3600
    reset_token_ttl_sec: int = 3600
    _jwt_secret_env: str = field(default="", repr=False)
    jwt_secret_id: str = ""

    @property
    def jwt_secret(self) -> str:
        return _load_jwt_secret(self._jwt_secret_env, self.jwt_secret_id)


def _load_jwt_secret(inline: str, secret_id: str) -> str:
    secret = inline or (_fetch_secret(secret_id) if secret_id else "")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigurationError(f"the JWT signing secret must be at least {MIN_SECRET_BYTES} bytes")
    return secret


@lru_cache(maxsize=4)
def _fetch_secret(secret_id: str) -> str:
    # Deployed stages keep the secret in Secrets Manager; powertools caches it between invocations.
    from aws_lambda_powertools.utilities.parameters import get_secret

    return str(get_secret(secret_id, max_age=300))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    return Settings(
        stage=env.get("STAGE", "dev"),
        table_name=env.get("TABLE_NAME", "openmrcs-dev"),
        region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "eu-west-2")),
        dynamodb_endpoint_url=env.get("DYNAMODB_ENDPOINT_URL") or None,
        jwt_issuer=env.get("JWT_ISSUER", "openmrcs"),
        jwt_audience=env.get("JWT_AUDIENCE", "openmrcs-api"),
        jwt_algorithm=env.get("JWT_ALGORITHM", "HS256"),
        access_token_ttl_sec=int(env.get("ACCESS_TOKEN_TTL_SEC", "900")),
        refresh_token_ttl_sec=int(env.get("REFRESH_TOKEN_TTL_SEC", str(7 * 24 * 3600))),
        cors_origins=_csv(env.get("CORS_ALLOWED_ORIGINS", "")),
        email_backend=env.get("EMAIL_BACKEND", "outbox"),
        email_sender=env.get("EMAIL_SENDER", "no-reply@openmrcs.local"),
        outbox_path=env.get("OUTBOX_PATH", ".local/outbox.jsonl"),
        public_app_url=env.get("PUBLIC_APP_URL", "http://localhost:3000"),
        argon2_time_cost=int(env.get("ARGON2_TIME_COST", "3")),
        argon2_memory_kib=int(env.get("ARGON2_MEMORY_KIB", "65536")),
        allow_local_email_domains=env.get("STAGE", "dev") not in ("staging", "prod"),
        task_backend=env.get("TASK_BACKEND", "lambda"),
        progress_min_answered=int(env.get("PROGRESS_MIN_ANSWERED", "10")),
        progress_min_score=float(env.get("PROGRESS_MIN_SCORE", "70")),
        suggest_min_attempts=int(env.get("SUGGEST_MIN_ATTEMPTS", "10")),
        suggest_low_score=float(env.get("SUGGEST_LOW_SCORE", "75")),
        _jwt_secret_env=env.get("JWT_SECRET", ""),
        jwt_secret_id=env.get("JWT_SECRET_ID", ""),
    )
