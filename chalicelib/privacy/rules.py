"""What an export may show and how an erased actor is named. Pure."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

# Never exported: credentials, token digests and key plumbing that tell the user nothing.
SECRET_FIELDS = frozenset(
    {"password_hash", "totp_secret", "totp_pending_secret", "recovery_codes", "current_jti", "stem_hash"}
)
KEY_FIELDS = frozenset({"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "type"})
ACTIVE_MARKER_DAYS = 35  # the active-day markers' TTL: erasure deletes every one that may exist


def exportable(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in attributes.items() if k not in SECRET_FIELDS and k not in KEY_FIELDS}


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):  # a map attribute
        value = value.as_dict()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def pseudonym(user_id: str) -> str:
    """A stable stand-in for an erased staff member in the audit trail (not reversible)."""
    return "erased-" + hashlib.sha256(user_id.encode()).hexdigest()[:16]


def active_days(today: date) -> list[str]:
    return [(today - timedelta(days=offset)).isoformat() for offset in range(ACTIVE_MARKER_DAYS + 1)]
