"""Account rules. Pure: the caller passes `now`; nothing here reads the table or the clock.

Two-factor codes follow RFC 6238 (30-second steps, 6 digits), accepting one step either side for
clock drift. A code is identified by its time step so it can be spent once: the service keeps the
last step used and accepts only a later one."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

import pyotp

STEP_SEC = 30
DRIFT_STEPS = 1


def totp_step(secret: str, code: str, now: float) -> int | None:
    """The time step a code belongs to, within one step of `now`; None if it matches none."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SEC)
    current = totp.timecode(now)
    for offset in (0, -DRIFT_STEPS, DRIFT_STEPS):
        candidate = totp.at(now + offset * STEP_SEC)
        if hmac.compare_digest(candidate, code):
            return current + offset
    return None


def provisioning_uri(secret: str, email: str, issuer: str = "OpenMRCS") -> str:
    return pyotp.TOTP(secret, interval=STEP_SEC).provisioning_uri(name=email, issuer_name=issuer)


def recovery_digest(code: str) -> str:
    """Recovery codes are stored only as their SHA-256 (they carry 80 random bits; no salt needed)."""
    normalised = code.replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


# --- email preferences ---------------------------------------------------------------------------

# Per kind of optional mail. Reminders are opt-in; the summary and announcements are on until the
# learner turns them off (each such mail carries a one-click unsubscribe). Security mail
# (verification, reset, two-factor changes, new-device sign-in) ignores these.
EMAIL_KINDS = ("reminders", "weekly_summary", "announcements")
DEFAULT_EMAIL_PREFS = {"reminders": False, "weekly_summary": True, "announcements": True}


def email_prefs(stored: Mapping[str, object] | None) -> dict[str, bool]:
    return {kind: bool((stored or {}).get(kind, default)) for kind, default in DEFAULT_EMAIL_PREFS.items()}


def allows_email(stored: Mapping[str, object] | None, kind: str) -> bool:
    return email_prefs(stored)[kind]
