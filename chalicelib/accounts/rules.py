"""Account rules. Pure: the caller passes `now`; nothing here reads the table or the clock.

Two-factor codes follow RFC 6238 (30-second steps, 6 digits), accepting one step either side for
clock drift. A code is identified by its time step so it can be spent once: the service keeps the
last step used and accepts only a later one."""

from __future__ import annotations

import hashlib
import hmac

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
