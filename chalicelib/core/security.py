"""Tokens, password hashing and roles: the one mechanism every route uses to decide who may do what."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jwt

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import EmailNotVerified, TwoFactorRequired, Unauthorized

if TYPE_CHECKING:
    from argon2 import PasswordHasher

REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss", "aud", "typ", "sid"]


class Role(StrEnum):
    USER = "user"
    EDITOR = "editor"
    EXAMINER = "examiner"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.EDITOR, Role.EXAMINER, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    session_id: str
    email_verified: bool = False  # from the table (the session check), never from the token
    two_factor: bool = False  # the same

    def has_role(self, *roles: Role) -> bool:
        # Admin holds every staff power; other roles hold exactly their own.
        return self.role == Role.ADMIN or self.role in roles


def require_staff_two_factor(principal: Principal) -> None:
    """Where the stage asks for it, staff must turn two-factor sign-in on before staff work."""
    if get_settings().require_staff_2fa and not principal.two_factor:
        raise TwoFactorRequired()


def require_verified_email(principal: Principal) -> None:
    """Where the stage asks for it, an unverified account is refused with a code it can act on."""
    if get_settings().require_verified_email and not principal.email_verified:
        raise EmailNotVerified()


def is_staff(principal: Principal | None) -> bool:
    """Editors, examiners and admins see content as staff do (answers, drafts, statuses)."""
    return principal is not None and principal.role in STAFF_ROLES


def can(principal: Principal | None, role: Role) -> bool:
    return principal is not None and principal.has_role(role)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: int


def _encode(claims: dict[str, Any], ttl_sec: int) -> IssuedToken:
    settings = get_settings()
    issued = clock.epoch()
    jti = secrets.token_urlsafe(16)
    payload = {
        **claims,
        "iat": issued,
        "exp": issued + ttl_sec,
        "jti": jti,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    token = jwt.encode(payload, settings.jwt_secret, algorithm=settings.jwt_algorithm)
    return IssuedToken(token=token, jti=jti, expires_at=issued + ttl_sec)


def issue_access_token(user_id: str, role: str, session_id: str) -> IssuedToken:
    claims = {"sub": user_id, "role": role, "sid": session_id, "typ": "access"}
    return _encode(claims, get_settings().access_token_ttl_sec)


def issue_challenge_token(user_id: str, ttl_sec: int) -> IssuedToken:
    """A short-lived proof that the password was right, exchanged with a code at POST /auth/2fa."""
    return _encode({"sub": user_id, "sid": "-", "typ": "2fa"}, ttl_sec)


def issue_refresh_token(user_id: str, session_id: str) -> IssuedToken:
    claims = {"sub": user_id, "sid": session_id, "typ": "refresh"}
    return _encode(claims, get_settings().refresh_token_ttl_sec)


UNSUBSCRIBE_TTL_SEC = 2 * 365 * 86400  # a link in an old email keeps working for two years


def issue_unsubscribe_token(user_id: str, kind: str) -> str:
    """A signed, login-free link token that turns one kind of optional email off."""
    return _encode({"sub": user_id, "sid": "-", "typ": "unsubscribe", "kind": kind}, UNSUBSCRIBE_TTL_SEC).token


def decode_token(token: str, *, expected_type: str) -> dict[str, Any]:
    """Verify signature, algorithm, expiry, issuer, audience and token type; any doubt is a 401."""
    settings = get_settings()
    required = REQUIRED_CLAIMS + (["role"] if expected_type == "access" else [])
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": required},
            leeway=0,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("The token is invalid.") from exc
    if claims.get("typ") != expected_type or not _numeric_times(claims):
        raise Unauthorized("The token is invalid.")
    return claims


def _numeric_times(claims: dict[str, Any]) -> bool:
    """RFC 7519 NumericDate: exp, iat and nbf are JSON numbers (pyjwt would accept "1700000000")."""
    return all(
        isinstance(claims[name], int | float) and not isinstance(claims[name], bool)
        for name in ("exp", "iat", "nbf")
        if name in claims
    )


def principal_from_header(authorization: str | None) -> Principal | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use an 'Authorization: Bearer <token>' header.")
    claims = decode_token(token.strip(), expected_type="access")
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise Unauthorized("The token is invalid.") from exc
    return Principal(user_id=str(claims["sub"]), role=role, session_id=str(claims["sid"]))


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # Imported here: only sign-up, sign-in and password changes hash, so the other requests (and
    # every Lambda's cold start) do not load argon2's C bindings.
    from argon2 import PasswordHasher

    settings = get_settings()
    # argon2-cffi's default type is argon2id; cost is tunable per stage (cheap only in tests).
    return PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


_DUMMY_HASH: list[str] = []


def burn_password_check(password: str) -> None:
    """Spend the same time as a real check so unknown emails are not told apart by latency."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
    verify_password(_DUMMY_HASH[0], password)


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """One-time tokens are stored only as their SHA-256, so a table dump reveals none."""
    return hashlib.sha256(token.encode()).hexdigest()
