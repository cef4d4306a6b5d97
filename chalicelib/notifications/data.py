"""Notification items and their keys. See docs/data-model.md, patterns N1-N12.

A learner's notifications live in their partition (`NOTIF#<time-ordered id>`), with one `INBOX`
item holding the unread count and how far the staff announcements feed has been merged in. A
staff announcement is stored once (`NOTIFBCAST`) and, once sent, as one entry of the feed
(`NOTIFFEED`, ordered by send time); each learner's inbox takes the entries sent since its last
visit, so sending to a million learners is one write, and a learner who never comes back costs
nothing."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.core.db import TableItem, typed, user_pk
from chalicelib.core.pagination import newest_first_page

NOTIFICATION_PREFIX = "NOTIF#"
INBOX_SK = "INBOX"
BROADCASTS_PK = "NOTIFBCAST"
FEED_PK = "NOTIFFEED"
STANDING_PK = "NOTIFSTANDING"  # sent announcements that also reach learners who register later
SCHEDULED_PK = "NOTIFDUE"  # announcements waiting for their send time, by that time


class Notification(TableItem, discriminator="Notification"):
    notification_id = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()  # Markdown as the author wrote it: clients render it safely
    kind = UnicodeAttribute()
    link = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    read = BooleanAttribute(default=False)
    broadcast_id = UnicodeAttribute(null=True)  # the announcement it came from, for its read count


class Inbox(TableItem, discriminator="Inbox"):
    registered_at = UnicodeAttribute()  # announcements sent before this reach the learner only if standing
    unread = NumberAttribute(default=0)
    synced_through = UnicodeAttribute()  # the newest feed key merged in (or the registration instant)
    read_all_before = UnicodeAttribute(default="")  # notification ids at or below this count as read
    # How far the standing notices sent before registration are merged in; the registration instant
    # itself once they all are (those sent later come through the feed like any announcement).
    standing_through = UnicodeAttribute(default="")


class Broadcast(TableItem, discriminator="Broadcast"):
    broadcast_id = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    kind = UnicodeAttribute()
    link = UnicodeAttribute(null=True)
    audience = JSONAttribute()
    include_future = BooleanAttribute(default=False)
    email = BooleanAttribute(default=False)
    send_at = UnicodeAttribute()
    status = UnicodeAttribute()  # scheduled | sent | withdrawn
    notification_id = UnicodeAttribute(null=True)  # given when sent: its id in every inbox
    sent_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    delivered = NumberAttribute(default=0)
    read = NumberAttribute(default=0)
    emailed = NumberAttribute(default=0)
    version = VersionAttribute()


class FeedEntry(TableItem, discriminator="FeedEntry"):
    """A sent announcement as inboxes merge it in (a copy: the announcement item stays staff-side)."""

    broadcast_id = UnicodeAttribute()
    notification_id = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    kind = UnicodeAttribute()
    link = UnicodeAttribute(null=True)
    audience = JSONAttribute()
    include_future = BooleanAttribute(default=False)
    sent_at = UnicodeAttribute()


class DueBroadcast(TableItem, discriminator="DueBroadcast"):
    broadcast_id = UnicodeAttribute()


# --- keys ------------------------------------------------------------------------------------------


def notification_key(user_id: str, notification_id: str) -> tuple[str, str]:
    return user_pk(user_id), NOTIFICATION_PREFIX + notification_id


def inbox_key(user_id: str) -> tuple[str, str]:
    return user_pk(user_id), INBOX_SK


BROADCAST_PREFIX = "BCAST#"


def broadcast_key(broadcast_id: str) -> tuple[str, str]:
    return BROADCASTS_PK, BROADCAST_PREFIX + broadcast_id


def feed_key(sent_at: str, notification_id: str) -> str:
    return f"{sent_at}#{notification_id}"


# --- a learner's inbox -------------------------------------------------------------------------------


def new_inbox(user_id: str, registered_at: str) -> Inbox:
    pk, sk = inbox_key(user_id)
    return Inbox(PK=pk, SK=sk, registered_at=registered_at, unread=0, synced_through=registered_at)


def get_inbox(user_id: str) -> Inbox | None:
    try:
        return Inbox.get(*inbox_key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def new_notification(user_id: str, notification_id: str, **fields: Any) -> Notification:
    pk, sk = notification_key(user_id, notification_id)
    return Notification(PK=pk, SK=sk, notification_id=notification_id, **fields)


def get_notification(user_id: str, notification_id: str) -> Notification | None:
    try:
        return Notification.get(*notification_key(user_id, notification_id), consistent_read=True)
    except DoesNotExist:
        return None


def page(user_id: str, limit: int, cursor: str | None) -> tuple[list[Notification], str | None]:
    """Newest first: one Query of `limit` items, whatever the inbox's size."""
    return newest_first_page(Notification, user_pk(user_id), NOTIFICATION_PREFIX, limit, cursor)


def newest_unread(user_id: str, after_id: str, limit: int) -> list[Notification]:
    """The newest notifications above `after_id` that are not marked read (bounded by `limit`)."""
    found = Notification.query(
        user_pk(user_id),
        NOTIFICATION_PREFIX + after_id < Notification.SK,
        filter_condition=Notification.read == False,  # noqa: E712 (a condition expression, not a test)
        scan_index_forward=False,
        limit=limit,
        consistent_read=True,
    )
    return [n for n in found if isinstance(n, Notification)]


def add_delivery(tx: TransactWrite, user_id: str, entry: FeedEntry) -> None:
    """One announcement into one inbox (the caller moves the inbox's watermark in the same
    transaction, so an announcement lands once)."""
    tx.save(
        new_notification(
            user_id,
            entry.notification_id,
            title=entry.title,
            body=entry.body,
            kind=entry.kind,
            link=entry.link,
            created_at=entry.sent_at,
            broadcast_id=entry.broadcast_id,
        ),
        condition=Notification.PK.does_not_exist(),
    )
    count_delivered(tx, entry.broadcast_id)


def count_delivered(tx: TransactWrite, broadcast_id: str) -> None:
    tx.update(
        Broadcast(*broadcast_key(broadcast_id)), actions=[Broadcast.delivered.add(1)], add_version_condition=False
    )


def count_read(tx: TransactWrite, broadcast_id: str, count: int = 1) -> None:
    tx.update(Broadcast(*broadcast_key(broadcast_id)), actions=[Broadcast.read.add(count)], add_version_condition=False)


def add_unread(tx: TransactWrite, user_id: str, now: str) -> None:
    """One more unread notification; an account from before notifications has no inbox yet, and
    this starts it (watermarks at `now`: nothing older is merged into it)."""
    tx.update(
        Inbox(*inbox_key(user_id)),
        actions=[
            typed(Inbox),
            Inbox.registered_at.set(Inbox.registered_at | now),
            Inbox.synced_through.set(Inbox.synced_through | now),
            Inbox.standing_through.set(Inbox.standing_through | now),
            Inbox.unread.add(1),
        ],
    )


# --- announcements -----------------------------------------------------------------------------------


def new_broadcast(broadcast_id: str, **fields: Any) -> Broadcast:
    return Broadcast(*broadcast_key(broadcast_id), broadcast_id=broadcast_id, **fields)


def get_broadcast(broadcast_id: str) -> Broadcast | None:
    try:
        return Broadcast.get(*broadcast_key(broadcast_id), consistent_read=True)
    except DoesNotExist:
        return None


def broadcasts(limit: int, cursor: str | None) -> tuple[list[Broadcast], str | None]:
    return newest_first_page(Broadcast, BROADCASTS_PK, BROADCAST_PREFIX, limit, cursor)


def due_marker(broadcast_id: str, send_at: str) -> DueBroadcast:
    return DueBroadcast(PK=SCHEDULED_PK, SK=f"{send_at}#{broadcast_id}", broadcast_id=broadcast_id)


def due(until_iso: str) -> list[DueBroadcast]:
    """Scheduled announcements whose send time has come (a few items: the scheduled ones only)."""
    found = DueBroadcast.query(SCHEDULED_PK, until_iso + "~" >= DueBroadcast.SK, consistent_read=True)
    return [m for m in found if isinstance(m, DueBroadcast)]


def feed_entry(broadcast: Broadcast, notification_id: str, sent_at: str) -> FeedEntry:
    return FeedEntry(
        PK=FEED_PK,
        SK=feed_key(sent_at, notification_id),
        broadcast_id=broadcast.broadcast_id,
        notification_id=notification_id,
        title=broadcast.title,
        body=broadcast.body,
        kind=broadcast.kind,
        link=broadcast.link,
        audience=broadcast.audience,
        include_future=bool(broadcast.include_future),
        sent_at=sent_at,
    )


def standing_entry(entry: FeedEntry) -> FeedEntry:
    """The same entry in the standing list, which a new inbox reads once."""
    return FeedEntry(**{**entry.attribute_values, "PK": STANDING_PK})


def latest_feed_key() -> str:
    """The newest sent announcement's feed key ("" when none): one Query of one item."""
    found = list(FeedEntry.query(FEED_PK, scan_index_forward=False, limit=1))
    return str(found[0].SK) if found else ""


def feed_after(key: str, limit: int) -> list[FeedEntry]:
    """Announcements sent after `key`, oldest first, at most `limit` (an inbox catches up in steps)."""
    found = FeedEntry.query(FEED_PK, key < FeedEntry.SK, limit=limit, consistent_read=True)
    return [e for e in found if isinstance(e, FeedEntry)]


def standing_between(after: str, before: str, limit: int) -> list[FeedEntry]:
    """Standing notices sent after the key `after` and before the instant `before`, oldest first."""
    found = FeedEntry.query(
        STANDING_PK, FeedEntry.SK.between(after + "\x00", before), limit=limit, consistent_read=True
    )
    return [e for e in found if isinstance(e, FeedEntry)]


def add_emailed(broadcast_id: str, count: int) -> None:
    Broadcast(*broadcast_key(broadcast_id)).update(actions=[Broadcast.emailed.add(count)], add_version_condition=False)
