"""HTTP routes of notifications: the learner's inbox (also under /me, the spec's other name for it)
and staff announcements."""

from __future__ import annotations

from chalicelib.core.http import Call, endpoint
from chalicelib.core.pagination import Page, PageQuery
from chalicelib.core.security import Role
from chalicelib.notifications import service
from chalicelib.notifications.schemas import (
    BroadcastIn,
    BroadcastOut,
    BroadcastPatch,
    InboxPage,
    NotificationOut,
    UnreadCount,
)

TAGS = ("notifications",)
STAFF = (Role.EDITOR,)  # and admins, who hold every staff power
STAFF_ERRORS = (400, 401, 403, 404, 409, 422)


def _inbox(call: Call) -> InboxPage:
    return service.inbox_page(call.user, call.query.limit, call.query.cursor)


def _read(call: Call) -> NotificationOut:
    return service.mark_read(call.user, call.params["notification_id"])


def _read_all(call: Call) -> UnreadCount:
    return service.read_all(call.user)


for prefix, name in (("", "notifications"), ("/me", "my_notifications")):
    endpoint(
        f"{prefix}/notifications",
        "GET",
        summary="My notifications, newest first, and how many are unread",
        tags=TAGS,
        query=PageQuery,
        response=InboxPage,
        no_store=True,
        errors=(400, 401),
        name=f"list_{name}",
    )(_inbox)
    endpoint(
        f"{prefix}/notifications/{{notification_id}}/read",
        "POST",
        summary="Mark one of my notifications read",
        tags=TAGS,
        response=NotificationOut,
        errors=(401, 404),
        name=f"read_{name}",
    )(_read)
    endpoint(
        f"{prefix}/notifications/read-all",
        "POST",
        summary="Mark all my notifications read",
        tags=TAGS,
        response=UnreadCount,
        errors=(401,),
        name=f"read_all_{name}",
    )(_read_all)


@endpoint(
    "/admin/notifications",
    "POST",
    summary="Announce to everyone, a role, some users or a segment; now or at send_at (staff)",
    tags=TAGS,
    roles=STAFF,
    body=BroadcastIn,
    response=BroadcastOut,
    status=201,
    errors=STAFF_ERRORS,
)
def create_broadcast(call: Call) -> BroadcastOut:
    return service.create_broadcast(call.user, call.body)


@endpoint(
    "/admin/notifications",
    "GET",
    summary="Announcements, newest first, with delivery and read counts (staff)",
    tags=TAGS,
    roles=STAFF,
    query=PageQuery,
    response=Page[BroadcastOut],
    errors=(400, 401, 403),
)
def list_broadcasts(call: Call) -> Page[BroadcastOut]:
    return service.list_broadcasts(call.query.limit, call.query.cursor)


@endpoint(
    "/admin/notifications/{broadcast_id}",
    "PATCH",
    summary="Edit an announcement not yet sent (staff)",
    tags=TAGS,
    roles=STAFF,
    body=BroadcastPatch,
    response=BroadcastOut,
    errors=STAFF_ERRORS,
)
def update_broadcast(call: Call) -> BroadcastOut:
    return service.update_broadcast(call.user, call.params["broadcast_id"], call.body)


@endpoint(
    "/admin/notifications/{broadcast_id}",
    "DELETE",
    summary="Withdraw an announcement not yet sent (staff)",
    tags=TAGS,
    roles=STAFF,
    status=204,
    errors=(401, 403, 404, 409),
)
def withdraw_broadcast(call: Call) -> None:
    service.withdraw_broadcast(call.user, call.params["broadcast_id"])
