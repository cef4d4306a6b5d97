"""Password rules beyond length (which the request schema enforces)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalicelib.core.errors import field_error

_COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(line.strip().lower() for line in _COMMON_PASSWORDS.read_text().splitlines() if line.strip())


def check_password(password: str, *, email: str, field: str = "password") -> None:
    lowered = password.strip().lower()
    local_part = email.split("@", 1)[0].lower()
    if lowered == email.lower() or lowered == local_part:
        raise field_error(field, "The password must not be your email address.", "password_is_email")
    if lowered in _common():
        raise field_error(field, "This password is too common; choose a less guessable one.", "password_too_common")
