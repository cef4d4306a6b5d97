"""Notification rules. Pure: who an announcement reaches, what counts as read, what may change.

An announcement's audience is everyone (registered when it is sent, or also later for a standing
notice), a role, a list of users, or a segment (learners inactive for N days, evaluated when it is
sent by the task that walks the user directory: see chalicelib/engagement)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import DomainError

STAFF_KINDS = ("announcement", "content_news")
EDITOR_KINDS = ("content_news",)  # editors announce content; admins anything staff may send
SYNC_BATCH = 25  # announcements merged into an inbox per request (the rest on the next one)
READ_ALL_BATCH = 40  # newest notifications marked one by one (with their announcements, within 100 items)


class NotificationNotFound(DomainError):
    kind = "not_found"


class AlreadySent(DomainError):
    kind = "conflict"


class BroadcastChanged(DomainError):
    kind = "conflict"


class KindNotAllowed(DomainError):
    kind = "forbidden"


@dataclass(frozen=True)
class Audience:
    everyone: bool = False
    user_ids: frozenset[str] | None = None
    role: str | None = None
    inactive_days: int | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Audience:
        ids = raw.get("user_ids")
        days = raw.get("inactive_days")
        return cls(
            everyone=bool(raw.get("all")),
            user_ids=frozenset(str(i) for i in ids) if ids is not None else None,
            role=str(raw["role"]) if raw.get("role") else None,
            inactive_days=int(days) if days is not None else None,
        )

    @property
    def is_segment(self) -> bool:
        return self.inactive_days is not None


@dataclass(frozen=True)
class Learner:
    user_id: str
    role: str
    registered_at: str  # ISO instant


def merged_on_read(audience: Audience) -> bool:
    """A segment depends on the learner's study history when sent: delivered by the send task."""
    return not audience.is_segment


def reaches(audience: Audience, include_future: bool, sent_at: str, learner: Learner) -> bool:
    """Whether an announcement belongs in this learner's inbox (segments: see `in_segment`)."""
    if audience.user_ids is not None:
        return learner.user_id in audience.user_ids
    if not include_future and learner.registered_at > sent_at:
        return False  # registered after it was sent: only a standing notice reaches them
    if audience.everyone:
        return True
    if audience.role is not None:
        return learner.role == audience.role
    return False


def in_segment(audience: Audience, sent_at: str, learner: Learner, active_days: set[str], days: list[str]) -> bool:
    """A learner is inactive for N days when none of the N UTC days before the send saw them study
    (`days` are those N dates; `active_days` the ones on which they studied)."""
    if audience.inactive_days is None or learner.registered_at > sent_at:
        return False
    return not (active_days & set(days))


def is_read(notification_id: str, read: bool, read_all_before: str) -> bool:
    return read or (bool(read_all_before) and notification_id <= read_all_before)


def may_send(kind: str, role: str) -> bool:
    return kind in (STAFF_KINDS if role == "admin" else EDITOR_KINDS)
