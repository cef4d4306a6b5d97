"""Module flags per stage (billing, paywall, review queue, notification email...): read from the
stage's settings (validated once per container at start), so a flag changes with a deploy of the
stage's configuration. Chosen over AppConfig: one source of truth already validated at cold start,
no extra service, call or cache to keep; module gates change with releases, not minute to minute."""

from __future__ import annotations

from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotFound


def enabled(name: str) -> bool:
    return get_settings().flag(name)


def require(name: str) -> None:
    """A disabled module's routes do not exist (404), whatever the caller."""
    if not enabled(name):
        raise NotFound("Not found.")
