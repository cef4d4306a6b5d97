"""Notification shapes. Bodies are Markdown text as the author wrote it; clients render it safely."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.core.pagination import Page
from chalicelib.core.security import Role

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Link = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(https://|/)[^\s<>\"']{0,499}$")]
StaffKind = Literal["announcement", "content_news"]
UserIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotificationOut(BaseModel):
    id: str
    title: str
    body: str = Field(description="Markdown; render it safely (no raw HTML).")
    kind: str
    is_read: bool
    created_at: str
    link: str | None = None


class InboxPage(Page[NotificationOut]):
    unread_count: int


class UnreadCount(BaseModel):
    unread_count: int


class AudienceIn(_Strict):
    """Exactly one of: everyone, some users, a role, or learners inactive for N days."""

    all: Literal[True] | None = None
    user_ids: UserIds | None = None
    role: Role | None = None
    inactive_days: Annotated[int, Field(ge=1, le=30)] | None = Field(
        None, description="Learners who have not studied in the N days before the send (1-30)."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        chosen = [name for name in ("all", "user_ids", "role", "inactive_days") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of all, user_ids, role, inactive_days")
        return self


class BroadcastIn(_Strict):
    title: Title
    body: Body
    kind: StaffKind = "announcement"
    link: Link | None = None
    audience: AudienceIn
    email: bool = Field(False, description="Also email it (to those who allow announcements).")
    send_at: datetime | None = Field(None, description="Send later (ISO 8601 with a zone); now when omitted.")
    include_future: bool = Field(False, description="A standing notice: also reaches learners who register later.")

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.send_at is not None and self.send_at.tzinfo is None:
            raise ValueError("send_at needs a time zone (for example 2026-12-01T09:00:00Z)")
        if self.include_future and (self.audience.user_ids is not None or self.audience.inactive_days is not None):
            raise ValueError("include_future applies to everyone or a role, not to listed users or a segment")
        return self


class BroadcastPatch(_Strict):
    title: Title | None = None
    body: Body | None = None
    link: Link | None = None
    audience: AudienceIn | None = None
    email: bool | None = None
    send_at: datetime | None = None
    include_future: bool | None = None

    @model_validator(mode="after")
    def _zoned(self) -> Self:
        if self.send_at is not None and self.send_at.tzinfo is None:
            raise ValueError("send_at needs a time zone (for example 2026-12-01T09:00:00Z)")
        return self

    def changes(self) -> dict[str, object]:
        dumped = self.model_dump(mode="json", exclude_none=False)
        return {name: dumped[name] for name in self.model_fields_set}


class BroadcastOut(BaseModel):
    id: str
    title: str
    body: str
    kind: str
    link: str | None
    audience: dict[str, object]
    include_future: bool
    email: bool
    send_at: str
    status: Literal["scheduled", "sent", "withdrawn"]
    sent_at: str | None
    created_by: str
    created_at: str
    delivered: int = Field(description="Inboxes it has reached so far (merged in when a learner next visits).")
    read: int = Field(description="Recipients who opened it.")
    emailed: int
