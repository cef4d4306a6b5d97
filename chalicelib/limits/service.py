"""Consume and refund rate-limit hits; a full window is a 429 with Retry-After and the envelope."""

from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import TooManyRequests
from chalicelib.limits import data
from chalicelib.limits.rules import Limit, window_at

HOUR = 3600


def limit(name: str) -> Limit:
    """A named limit with its current settings (README lists them all)."""
    s = get_settings()
    table = {
        "login-account-ip": (s.login_max_failures, s.login_window_sec),
        "login-account": (s.login_account_max_failures, HOUR),
        "register-ip": (s.register_per_ip_per_hour or 20, HOUR),
        "mail-address": (s.mail_per_address_per_hour, HOUR),
        "mail-ip": (s.mail_per_ip_per_hour or 20, HOUR),
        "practice-sessions": (s.practice_sessions_per_hour, HOUR),
        "exam-starts": (s.exam_starts_per_hour, HOUR),
        "answers": (s.answers_per_hour, HOUR),
        "imports": (s.imports_per_hour, HOUR),
        "question-reports": (s.question_reports_per_hour, HOUR),
        "2fa-attempts": (s.two_factor_attempts_per_15_min, 15 * 60),
    }
    max_hits, window_sec = table[name]
    return Limit(name, max_hits, window_sec)


def consume(limit: Limit, subject: str, message: str = "Too many requests; try again later.") -> None:
    """Count one hit for `subject`, or refuse (429) if its window is full."""
    now = clock.epoch()
    window = window_at(limit, now)
    if not data.take(limit.name, subject, window.start, window.end, limit.max_hits):
        raise TooManyRequests(message, retry_after_sec=window.retry_after(now))


def reset(limit: Limit, subject: str) -> None:
    """Forget the subject's hits in the current window (a successful login clears its failures)."""
    data.clear(limit.name, subject, window_at(limit, clock.epoch()).start)


def refund(limit: Limit, subject: str) -> None:
    data.give_back(limit.name, subject, window_at(limit, clock.epoch()).start)


def take_in_window(name: str, subject: str, start: int, end: int, max_hits: int) -> bool:
    """One hit in a window the caller computed (a learner's calendar day, say); False when full."""
    return max_hits > 0 and data.take(name, subject, start, end, max_hits)


def give_back_in_window(name: str, subject: str, start: int) -> None:
    """Return one hit taken with `take_in_window` (the work it paid for was refused)."""
    data.give_back(name, subject, start)
