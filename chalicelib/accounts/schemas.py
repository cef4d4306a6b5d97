"""Request and response shapes of the account endpoints."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, ClassVar, Literal
from zoneinfo import available_timezones

import email_validator
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, HttpUrl, StringConstraints

from chalicelib.core.config import get_settings
from chalicelib.core.pagination import PageQuery
from chalicelib.core.schemas import PatchModel
from chalicelib.core.security import Role

if get_settings().allow_local_email_domains:
    # The local stack's accounts live at @openmrcs.local; this is email-validator's documented switch.
    email_validator.SPECIAL_USE_DOMAIN_NAMES[:] = [
        name for name in email_validator.SPECIAL_USE_DOMAIN_NAMES if name not in ("local", "test")
    ]

Password = Annotated[str, Field(min_length=10, max_length=128)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Email = Annotated[EmailStr, Field(max_length=254)]
Token = Annotated[str, Field(min_length=16, max_length=2048)]


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _iana_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError("must be an IANA time zone name such as 'Europe/London'")
    return value


Timezone = Annotated[str, Field(max_length=64), AfterValidator(_iana_timezone)]


def _calendar_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("Not a calendar date (YYYY-MM-DD).") from exc
    return value


# A calendar day as JSON carries it (requests are validated strictly: no str -> date coercion)
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_calendar_date)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=4096)


class RegisterRequest(Strict):
    email: Email
    password: Password
    display_name: DisplayName


class LoginRequest(Strict):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=128)]


class RefreshRequest(Strict):
    refresh: Token


class EmailOnlyRequest(Strict):
    email: Email


class TokenRequest(Strict):
    token: Token


class ResetPasswordRequest(Strict):
    token: Token
    new_password: Password


class EmailPreferences(BaseModel):
    reminders: bool = Field(description="Study reminders by email (in-app reminders always arrive).")
    weekly_summary: bool
    announcements: bool


class EmailPreferencesPatch(Strict):
    reminders: bool | None = None
    weekly_summary: bool | None = None
    announcements: bool | None = None


class UpdateProfileRequest(PatchModel):
    """`avatar` is the spec's name; `avatar_url` is accepted too. Null clears the avatar."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"avatar", "avatar_url", "exam_date", "daily_minutes"})

    display_name: DisplayName | None = None
    avatar: Annotated[HttpUrl, Field(max_length=2048)] | None = None
    avatar_url: Annotated[HttpUrl, Field(max_length=2048)] | None = None
    timezone: Timezone | None = None
    prefers_explanations: bool | None = None
    email_preferences: EmailPreferencesPatch | None = None
    review_retention: Annotated[float, Field(ge=0.80, le=0.97)] | None = Field(
        None, description="Desired recall for spaced review, 0.80-0.97 (higher: more reviews). Default 0.92."
    )
    exam_date: IsoDate | None = Field(
        None, description="The learner's exam day (YYYY-MM-DD, not in the past); null clears."
    )
    daily_minutes: Annotated[int, Field(ge=10, le=600)] | None = Field(
        None, description="Minutes a day the learner can study (10-600): the plan's budget; null clears."
    )


class ChangeRoleRequest(Strict):
    role: Role


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    is_email_verified: bool
    display_name: str
    avatar: str | None
    avatar_url: str | None = Field(description="The same as `avatar` (kept for clients written against it).")
    timezone: str
    prefers_explanations: bool
    created_at: str
    email_preferences: EmailPreferences
    review_retention: float | None = Field(None, description="Desired recall for spaced review; null: 0.92.")
    exam_date: str | None = Field(None, description="The exam day the plan aims at (YYYY-MM-DD).")
    daily_minutes: int | None = Field(None, description="Daily study minutes the plan fits into.")
    unread_notifications: int | None = Field(
        None, description="Unread notifications (GET /me only: the inbox badge needs no second request)."
    )


class TokenPair(BaseModel):
    access: str
    refresh: str


class TwoFactorChallenge(BaseModel):
    """The login answer for an account with two-factor sign-in: no tokens until the code is given."""

    challenge: str = Field(description="Send it with a code to POST /auth/2fa within 5 minutes.")
    expires_in: int


class Code(Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=20)]


class TwoFactorLogin(Code):
    challenge: Annotated[str, Field(min_length=20, max_length=2048)]


class TwoFactorSetup(BaseModel):
    secret: str
    otpauth_uri: str


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each works once instead of a code.")


class TwoFactorOff(Strict):
    """Turning two-factor sign-in off needs a current code (or a recovery code) or the password."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=20)] | None = None
    password: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class RegisterResponse(TokenPair):
    user: UserOut


class SessionOut(BaseModel):
    id: str
    device: str
    created_at: str
    last_used_at: str
    current: bool


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str


class UnsubscribeQuery(BaseModel):
    token: str = Field(min_length=20, max_length=4096, description="The signed token from the email's link.")


class Unsubscribed(BaseModel):
    unsubscribed: str = Field(description="The kind of email turned off (reminders, weekly_summary, announcements).")


class UserSearchQuery(PageQuery):
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254)] = Field(
        "", description="The start of the address (case-insensitive); empty lists everyone, in address order."
    )
    role: Role | None = Field(None, description="Only accounts with this role.")
