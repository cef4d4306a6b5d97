"""Runtime settings: one validated model, read once from the environment that `.chalice/config.json`
sets per stage. A bad value stops the Lambda at start (cold start), not in the middle of a request.

Every tunable named in the docs is a field here and is read from its upper-case environment
variable (PROGRESS_MIN_SCORE, SUGGEST_MAX, HEARTBEAT_DAILY_CAP_SEC, ...).

A plain pydantic model validated from `os.environ` (as the Lambda handler cookbook does), not
pydantic-settings: that package's import brings asyncio, argparse, python-dotenv and every settings
source (CLI, dotenv, cloud secret stores) into each cold start, 18-28 ms of init + first request
(3 paired runs of 15 fresh interpreters), to read environment variables, which `from_environment`
does here; pydantic still parses and validates every value."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from chalicelib.core.errors import ConfigurationError

MIN_SECRET_BYTES = 32
PositiveInt = Annotated[int, Field(gt=0)]
Percent = Annotated[float, Field(ge=0, le=100)]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: Literal["dev", "staging", "prod", "local", "test", "bench"] = "dev"
    table_name: Annotated[str, Field(min_length=3, max_length=255)] = "openmrcs-dev"
    aws_region: str = ""
    aws_default_region: str = "eu-west-2"
    dynamodb_endpoint_url: str | None = None

    jwt_issuer: str = "openmrcs"
    jwt_audience: str = "openmrcs-api"
    jwt_algorithm: Literal["HS256"] = "HS256"
    access_token_ttl_sec: PositiveInt = 900
    refresh_token_ttl_sec: PositiveInt = 7 * 24 * 3600
    # The signing secret: inline (local stack, tests) or a Secrets Manager id (deployed stages).
    jwt_secret_inline: SecretStr = Field(SecretStr(""), validation_alias="JWT_SECRET", repr=False)
    jwt_secret_id: str = ""
    jwt_secret_max_age_sec: PositiveInt = 300

    cors_allowed_origins: tuple[str, ...] = ()  # comma-separated
    email_backend: Literal["outbox", "ses"] = "outbox"
    email_sender: str = "no-reply@openmrcs.local"
    outbox_path: str = ".local/outbox.jsonl"
    public_app_url: str = "http://localhost:3000"
    public_api_url: str = "http://127.0.0.1:8000/api/v1"  # where links in emails reach the API (unsubscribe)
    argon2_time_cost: PositiveInt = 3
    argon2_memory_kib: Annotated[int, Field(ge=1024)] = 65536
    task_backend: Literal["lambda", "thread", "deferred"] = "lambda"

    # Dashboard rules (docs/analytics.md): a category is completed with at least N answers at X%;
    # suggestions need enough attempts and a low enough score.
    progress_min_answered: PositiveInt = 10
    progress_min_score: Percent = 70.0
    suggest_min_attempts: PositiveInt = 10
    suggest_low_score: Percent = 75.0
    suggest_max: Annotated[int, Field(ge=0, le=25)] = 5
    heartbeat_daily_cap_sec: Annotated[int, Field(gt=0, le=24 * 3600)] = 16 * 3600
    # Study reminders: after this many days without study, at this local hour (one per that many days).
    reminder_after_days: Annotated[int, Field(ge=1, le=29)] = 3
    reminder_hour: Annotated[int, Field(ge=0, le=23)] = 18

    # Rate limits (README, "Security"): per account+IP, per account, per address, per user and per IP.
    login_max_failures: PositiveInt = 5  # per account and client IP, per login window
    login_window_sec: PositiveInt = 15 * 60
    login_account_max_failures: PositiveInt = 100  # per account across IPs, per hour (ASVS 2.2.1)
    mail_per_address_per_hour: PositiveInt = 3  # password-reset and verification mails to one address
    practice_sessions_per_hour: PositiveInt = 60
    exam_starts_per_hour: PositiveInt = 10
    answers_per_hour: PositiveInt = 1200  # practice attempts and exam saves, per learner
    imports_per_hour: PositiveInt = 20
    question_reports_per_hour: PositiveInt = 20  # per learner
    # Per-IP limits: strict on deployed stages, high on the local stack and in tests (one machine
    # runs every automated client). Unset means the stage's default.
    register_per_ip_per_hour: PositiveInt | None = None
    mail_per_ip_per_hour: PositiveInt | None = None
    # Unverified accounts may practise but not start exams or use staff routes. Unset: on in
    # staging and prod, off on the local stack (whose mail goes to the outbox) and in dev.
    require_verified_email: bool | None = None
    # Staff (editor, examiner, admin) must have two-factor sign-in on. Unset: on in staging and
    # prod, off on the local stack so the seeded staff accounts keep working.
    require_staff_2fa: bool | None = None
    two_factor_attempts_per_15_min: PositiveInt = 5
    # GDPR export: small accounts are answered inline; larger ones are written by the task worker to
    # this bucket and fetched through a presigned link.
    export_bucket: str = "openmrcs-exports-dev"
    export_inline_max_items: PositiveInt = 5000
    export_link_ttl_sec: PositiveInt = 900
    s3_endpoint_url: str | None = None  # the local stack's embedded moto server
    verify_token_ttl_sec: PositiveInt = 24 * 3600
    reset_token_ttl_sec: PositiveInt = 3600

    # Module flags per stage (docs/billing.md): FEATURE_FLAGS='{"billing": false}' overrides the
    # stage's defaults (`flag`). A disabled module's routes answer 404.
    feature_flags: dict[str, bool] = Field(default_factory=dict)  # a JSON object
    # Billing: the provider (unset: Stripe on staging and prod, the local one elsewhere), its secrets
    # (a Secrets Manager id holding {"api_key", "webhook_secret"}; or, locally, the webhook secret
    # inline), the grace after a failed payment, and the largest paper the free plan may sit.
    billing_provider: Literal["local", "stripe"] | None = None
    billing_secret_id: str = ""
    billing_webhook_secret_inline: SecretStr = Field(
        SecretStr(""), validation_alias="BILLING_WEBHOOK_SECRET", repr=False
    )
    payment_grace_days: Annotated[int, Field(ge=0, le=30)] = 7
    quick_mock_max_questions: PositiveInt = 50

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """Each field from its environment variable: the field's name (or its alias, as JWT_SECRET),
        in any case; variables that name no field are ignored."""
        by_lower_name = {name.lower(): value for name, value in environ.items()}
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            key = field.validation_alias if isinstance(field.validation_alias, str) else name
            if key.lower() in by_lower_name:
                values[key] = by_lower_name[key.lower()]
        return cls.model_validate(values)

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("feature_flags", mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value  # bad JSON: a ValueError

    @model_validator(mode="after")
    def _a_secret_source(self) -> Settings:
        if not self.jwt_secret_inline.get_secret_value() and not self.jwt_secret_id:
            raise ValueError("set JWT_SECRET (local) or JWT_SECRET_ID (deployed stages)")
        inline = self.jwt_secret_inline.get_secret_value()
        if inline and len(inline.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the JWT signing secret must be at least {MIN_SECRET_BYTES} bytes")
        return self

    @model_validator(mode="after")
    def _per_ip_defaults(self) -> Settings:
        relaxed = self.stage in ("local", "test", "bench")
        if self.register_per_ip_per_hour is None:
            object.__setattr__(self, "register_per_ip_per_hour", 1000 if relaxed else 20)
        if self.mail_per_ip_per_hour is None:
            object.__setattr__(self, "mail_per_ip_per_hour", 1000 if relaxed else 20)
        if self.require_verified_email is None:
            object.__setattr__(self, "require_verified_email", self.stage in ("staging", "prod"))
        if self.require_staff_2fa is None:
            object.__setattr__(self, "require_staff_2fa", self.stage in ("staging", "prod"))
        if self.billing_provider is None:
            object.__setattr__(self, "billing_provider", "stripe" if self.stage in ("staging", "prod") else "local")
        return self

    def flag(self, name: str) -> bool:
        """A module flag: FEATURE_FLAGS first, else the stage's default (billing and the review
        queue on everywhere; the paywall on in staging and prod only, so development and test
        accounts are unrestricted)."""
        defaults = {"paywall": self.stage in ("staging", "prod")}
        return bool(self.feature_flags.get(name, defaults.get(name, True)))

    @property
    def billing_webhook_secret(self) -> str:
        inline = self.billing_webhook_secret_inline.get_secret_value()
        return inline or str(_fetch_json_secret(self.billing_secret_id, self.jwt_secret_max_age_sec)["webhook_secret"])

    @property
    def billing_api_key(self) -> str:
        return str(_fetch_json_secret(self.billing_secret_id, self.jwt_secret_max_age_sec)["api_key"])

    @property
    def region(self) -> str:
        return self.aws_region or self.aws_default_region

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return self.cors_allowed_origins

    @property
    def allow_local_email_domains(self) -> bool:
        return self.stage not in ("staging", "prod")

    @property
    def jwt_secret(self) -> str:
        """Read on every use: the Secrets Manager value is cached for `jwt_secret_max_age_sec` by
        powertools, so a rotated secret is picked up within that time on every container."""
        inline = self.jwt_secret_inline.get_secret_value()
        secret = inline or _fetch_secret(self.jwt_secret_id, self.jwt_secret_max_age_sec)
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(f"the JWT signing secret must be at least {MIN_SECRET_BYTES} bytes")
        return secret


def _fetch_secret(secret_id: str, max_age_sec: int) -> str:
    from aws_lambda_powertools.utilities.parameters import get_secret

    return str(get_secret(secret_id, max_age=max_age_sec))


def _fetch_json_secret(secret_id: str, max_age_sec: int) -> dict[str, object]:
    if not secret_id:
        raise ConfigurationError("billing needs BILLING_SECRET_ID (or BILLING_WEBHOOK_SECRET locally)")
    return dict(json.loads(_fetch_secret(secret_id, max_age_sec)))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, validated once per process; a bad environment fails here, at start."""
    try:
        return Settings.from_environment(os.environ)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid settings: {problems}") from None
