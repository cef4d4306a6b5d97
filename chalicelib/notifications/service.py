"""The inbox and staff announcements.

A learner's inbox is their own `NOTIF#` items; announcements are merged in when the learner next
looks (`GET /me` on every page load, or the inbox itself), from the feed of sent announcements
after the inbox's watermark, in one transaction that also moves the watermark: an announcement
lands in an inbox once, whatever races. See docs/data-model.md, "Notifications"."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.audit.data import Change, audited_transaction, event_for
from chalicelib.core import clock
from chalicelib.core.cache import TtlCache
from chalicelib.core.db import is_condition_failure, transaction
from chalicelib.core.pagination import Page
from chalicelib.core.security import Principal
from chalicelib.core.tasks import enqueue
from chalicelib.notifications import data, rules
from chalicelib.notifications.data import Broadcast, FeedEntry, Inbox, Notification
from chalicelib.notifications.schemas import (
    BroadcastIn,
    BroadcastOut,
    BroadcastPatch,
    InboxPage,
    NotificationOut,
    UnreadCount,
)

DELIVER_TASK = "notifications.deliver_broadcast"  # emails and segments: handled in chalicelib/engagement
# Every request would otherwise Query the feed to learn that nothing new was sent: each container
# remembers the newest feed key for a few seconds (an announcement reaches inboxes that much later).
_latest_feed: TtlCache[str] = TtlCache("notifications.latest_feed", ttl_sec=15)


# --- the learner's inbox -----------------------------------------------------------------------------


def unread_count(user_id: str, role: str, registered_at: str, inbox: Inbox | None) -> int:
    """For `GET /me`: the inbox (read with the profile) brought up to date, and its unread count."""
    return int(_synced(user_id, role, registered_at, inbox).unread)


def inbox_key(user_id: str) -> tuple[str, str]:
    return data.inbox_key(user_id)


def inbox_page(principal: Principal, limit: int, cursor: str | None) -> InboxPage:
    inbox = _my_inbox(principal)
    items, next_cursor = data.page(principal.user_id, limit, cursor)
    return InboxPage(items=[_out(n, inbox) for n in items], next_cursor=next_cursor, unread_count=int(inbox.unread))


def _my_inbox(principal: Principal) -> Inbox:
    """The inbox for the inbox routes; an account without one yet (made before notifications
    existed, and not seen by `GET /me` since) starts its inbox now."""
    stored = data.get_inbox(principal.user_id)
    return _synced(principal.user_id, principal.role.value, clock.iso_ms(clock.now()), stored)


def _out(notification: Notification, inbox: Inbox) -> NotificationOut:
    return NotificationOut(
        id=notification.notification_id,
        title=notification.title,
        body=notification.body,
        kind=notification.kind,
        is_read=rules.is_read(notification.notification_id, bool(notification.read), inbox.read_all_before),
        created_at=notification.created_at,
        link=notification.link,
    )


MERGE_ROUNDS = 4  # batches merged per request at most (an inbox far behind catches up over a few)


def _synced(user_id: str, role: str, registered_at: str, inbox: Inbox | None) -> Inbox:
    """The inbox with what it has not merged yet merged in: first the standing notices sent before
    the learner registered, then the announcements sent since its feed watermark."""
    if inbox is None:
        inbox = _open(user_id, registered_at)
    for _ in range(MERGE_ROUNDS):
        if inbox.standing_through < inbox.registered_at:
            batch = data.standing_between(inbox.standing_through, inbox.registered_at, rules.SYNC_BATCH)
            finished = len(batch) < rules.SYNC_BATCH
            source, mark = "standing_through", inbox.registered_at if finished else str(batch[-1].SK)
        else:
            # Nothing new, the common case: known from a per-container cache, without a read.
            latest = _latest_feed.get_or_load("latest", data.latest_feed_key)
            if not latest or latest <= inbox.synced_through:
                return inbox
            batch = data.feed_after(inbox.synced_through, rules.SYNC_BATCH)
            if not batch:
                return inbox
            source, mark = "synced_through", str(batch[-1].SK)
        inbox = _merge(user_id, role, inbox, batch, source, mark) or data.get_inbox(user_id) or inbox
    return inbox


def _merge(user_id: str, role: str, inbox: Inbox, entries: list[FeedEntry], watermark: str, mark: str) -> Inbox | None:
    """Deliver the entries that reach this learner and move the watermark to `mark`, in one
    transaction conditioned on the watermark read: each entry lands once, whatever races. None if
    another request moved the watermark first (the caller reads the inbox again)."""
    learner = rules.Learner(user_id, role, inbox.registered_at)
    matched = [e for e in entries if _reaches(e, learner)]
    attribute = getattr(Inbox, watermark)
    read = getattr(inbox, watermark)
    unchanged = attribute == read if read else (attribute == read) | attribute.does_not_exist()
    try:
        with transaction() as tx:
            for entry in matched:
                data.add_delivery(tx, user_id, entry)
            tx.update(inbox, actions=[attribute.set(mark), Inbox.unread.add(len(matched))], condition=unchanged)
    except TransactWriteError as exc:
        if not is_condition_failure(exc):
            raise
        return None
    setattr(inbox, watermark, mark)
    inbox.unread = int(inbox.unread) + len(matched)
    return inbox


def _reaches(entry: FeedEntry, learner: rules.Learner) -> bool:
    audience = rules.Audience.from_json(entry.audience)
    return rules.merged_on_read(audience) and rules.reaches(
        audience, bool(entry.include_future), entry.sent_at, learner
    )


def _open(user_id: str, registered_at: str) -> Inbox:
    """An inbox for an account made before notifications existed (new accounts get theirs at
    registration: `new_inbox`)."""
    inbox = data.new_inbox(user_id, registered_at)
    try:
        inbox.save(condition=Inbox.PK.does_not_exist())
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        return data.get_inbox(user_id) or inbox  # another request opened it first
    return inbox


def new_inbox(user_id: str, registered_at: str) -> Inbox:
    """The inbox a new account's transaction writes (announcements sent from now on reach it)."""
    return data.new_inbox(user_id, registered_at)


def mark_read(principal: Principal, notification_id: str) -> NotificationOut:
    inbox = data.get_inbox(principal.user_id)
    notification = data.get_notification(principal.user_id, notification_id)
    if notification is None or inbox is None:
        raise rules.NotificationNotFound("No such notification.")
    if rules.is_read(notification_id, bool(notification.read), inbox.read_all_before):
        return _out(notification, inbox)
    try:
        with transaction() as tx:
            tx.update(notification, actions=[Notification.read.set(True)], condition=Notification.read == False)  # noqa: E712
            tx.update(inbox, actions=[Inbox.unread.add(-1)], condition=Inbox.unread > 0)
            if notification.broadcast_id:
                data.count_read(tx, notification.broadcast_id)
    except TransactWriteError as exc:
        if not is_condition_failure(exc):
            raise  # else: read meanwhile by another request: it is read either way
    notification.read = True
    return _out(notification, inbox)


def read_all(principal: Principal) -> UnreadCount:
    """Everything up to the newest notification counts as read: O(1) whatever the inbox's size; the
    newest unread ones are also marked one by one so their announcements' read counts move."""
    inbox = _my_inbox(principal)
    newest, _ = data.page(principal.user_id, 1, None)
    if not newest:
        return UnreadCount(unread_count=0)
    recent = data.newest_unread(principal.user_id, inbox.read_all_before, rules.READ_ALL_BATCH)
    per_broadcast = Counter(n.broadcast_id for n in recent if n.broadcast_id)
    try:
        with transaction() as tx:
            for notification in recent:
                tx.update(notification, actions=[Notification.read.set(True)])
            for broadcast_id, count in per_broadcast.items():
                data.count_read(tx, broadcast_id, count)
            tx.update(
                inbox,
                actions=[Inbox.read_all_before.set(newest[0].notification_id), Inbox.unread.set(0)],
                condition=Inbox.synced_through == inbox.synced_through,
            )
    except TransactWriteError as exc:
        if not is_condition_failure(exc):
            raise
        return read_all(principal)  # an announcement arrived meanwhile: include it
    return UnreadCount(unread_count=0)


def notify(user_id: str, kind: str, title: str, body: str, link: str | None = None) -> str:
    """A notification for one learner (an event: an exam submitted for them, extra time granted)."""
    notification_id = clock.new_id()
    now = clock.iso_ms(clock.now())
    with transaction() as tx:
        add_personal(tx, user_id, notification_id, kind, title, body, link, now)
    return notification_id


def add_personal(
    tx: Any, user_id: str, notification_id: str, kind: str, title: str, body: str, link: str | None, now: str
) -> None:
    """A personal notification written in the caller's transaction (a job's claim, say)."""
    item = data.new_notification(user_id, notification_id, title=title, body=body, kind=kind, link=link, created_at=now)
    tx.save(item, condition=Notification.PK.does_not_exist())
    data.add_unread(tx, user_id, now)


# --- staff announcements -----------------------------------------------------------------------------


def broadcast_out(broadcast: Broadcast) -> BroadcastOut:
    return BroadcastOut(
        id=broadcast.broadcast_id,
        title=broadcast.title,
        body=broadcast.body,
        kind=broadcast.kind,
        link=broadcast.link,
        audience=dict(broadcast.audience),
        include_future=bool(broadcast.include_future),
        email=bool(broadcast.email),
        send_at=broadcast.send_at,
        status=broadcast.status,
        sent_at=broadcast.sent_at,
        created_by=broadcast.created_by,
        created_at=broadcast.created_at,
        delivered=int(broadcast.delivered),
        read=int(broadcast.read),
        emailed=int(broadcast.emailed),
    )


def _send_at(value: datetime | None, now: datetime) -> str:
    return clock.iso_ms(max(value, now) if value is not None else now)


def create_broadcast(actor: Principal, request: BroadcastIn) -> BroadcastOut:
    if not rules.may_send(request.kind, actor.role.value):
        raise rules.KindNotAllowed("Editors may send content news only (kind `content_news`).")
    now = clock.now()
    broadcast_id = clock.new_id()
    broadcast = data.new_broadcast(
        broadcast_id,
        title=request.title,
        body=request.body,
        kind=request.kind,
        link=request.link,
        audience=request.audience.model_dump(mode="json", exclude_none=True),
        include_future=request.include_future,
        email=request.email,
        send_at=_send_at(request.send_at, now),
        status="scheduled",
        created_by=actor.user_id,
        created_at=clock.iso_ms(now),
    )
    out = broadcast_out(broadcast)
    with audited_transaction(
        Change(actor.user_id, "notification.created", "notification", broadcast_id, after=out.model_dump(mode="json"))
    ) as tx:
        tx.save(broadcast, condition=Broadcast.PK.does_not_exist())
        tx.save(data.due_marker(broadcast_id, broadcast.send_at))
    if broadcast.send_at <= clock.iso_ms(now):
        _send(broadcast)  # now: the same request sends it (the job sends the scheduled ones)
        return broadcast_out(data.get_broadcast(broadcast_id) or broadcast)
    return out


def list_broadcasts(limit: int, cursor: str | None) -> Page[BroadcastOut]:
    items, next_cursor = data.broadcasts(limit, cursor)
    return Page[BroadcastOut](items=[broadcast_out(b) for b in items], next_cursor=next_cursor)


def _scheduled(broadcast_id: str) -> Broadcast:
    broadcast = data.get_broadcast(broadcast_id)
    if broadcast is None:
        raise rules.NotificationNotFound("No such announcement.")
    if broadcast.status != "scheduled":
        raise rules.AlreadySent(f"This announcement is {broadcast.status}; it can no longer change.")
    return broadcast


def update_broadcast(actor: Principal, broadcast_id: str, patch: BroadcastPatch) -> BroadcastOut:
    broadcast = _scheduled(broadcast_id)
    before = broadcast_out(broadcast).model_dump(mode="json")
    changes = patch.changes()
    if "send_at" in changes:
        changes["send_at"] = _send_at(patch.send_at, clock.now())
    if not changes:
        return broadcast_out(broadcast)
    changed = rules.BroadcastChanged("The announcement changed or was sent meanwhile; reload it.")
    change = Change(actor.user_id, "notification.updated", "notification", broadcast_id, before=before)
    with audited_transaction(change, otherwise=changed) as tx:
        actions = [getattr(Broadcast, name).set(value) for name, value in changes.items()]
        tx.update(broadcast, actions=actions, condition=Broadcast.status == "scheduled")  # version-checked too
        if "send_at" in changes and changes["send_at"] != broadcast.send_at:
            tx.delete(data.due_marker(broadcast_id, broadcast.send_at))
            tx.save(data.due_marker(broadcast_id, str(changes["send_at"])))
    updated = data.get_broadcast(broadcast_id) or broadcast
    if updated.status == "scheduled" and updated.send_at <= clock.iso_ms(clock.now()):
        _send(updated)
        updated = data.get_broadcast(broadcast_id) or updated
    return broadcast_out(updated)


def withdraw_broadcast(actor: Principal, broadcast_id: str) -> None:
    broadcast = _scheduled(broadcast_id)
    before = broadcast_out(broadcast).model_dump(mode="json")
    change = Change(actor.user_id, "notification.withdrawn", "notification", broadcast_id, before=before)
    with audited_transaction(
        change, otherwise=rules.AlreadySent("It was sent meanwhile; it can no longer change.")
    ) as tx:
        tx.update(broadcast, actions=[Broadcast.status.set("withdrawn")], condition=Broadcast.status == "scheduled")
        tx.delete(data.due_marker(broadcast_id, broadcast.send_at))


def _send(broadcast: Broadcast) -> bool:
    """Send once: the announcement becomes a feed entry (and a standing one), its marker goes."""
    sent_at = clock.iso_ms(clock.now())
    notification_id = clock.new_id()
    entry = data.feed_entry(broadcast, notification_id, sent_at)
    try:
        with transaction() as tx:
            tx.update(
                broadcast,
                actions=[
                    Broadcast.status.set("sent"),
                    Broadcast.sent_at.set(sent_at),
                    Broadcast.notification_id.set(notification_id),
                ],
                condition=Broadcast.status == "scheduled",
                add_version_condition=False,
            )
            tx.save(entry)
            if broadcast.include_future:
                tx.save(data.standing_entry(entry))
            tx.delete(data.due_marker(broadcast.broadcast_id, broadcast.send_at))
            tx.save(event_for(Change("system", "notification.sent", "notification", broadcast.broadcast_id)))
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            return False  # sent (or withdrawn) by another request or run
        raise
    _latest_feed.put("latest", entry.SK)
    if broadcast.email or not rules.merged_on_read(rules.Audience.from_json(broadcast.audience)):
        enqueue(DELIVER_TASK, {"broadcast_id": broadcast.broadcast_id, "shard": 0, "cursor": None})
    return True


def send_due_broadcasts() -> int:
    """The scheduled job: every announcement whose send time has come is sent (once)."""
    sent = 0
    for marker in data.due(clock.iso_ms(clock.now())):
        broadcast = data.get_broadcast(marker.broadcast_id)
        if broadcast is not None and broadcast.status == "scheduled" and _send(broadcast):
            sent += 1
    return sent


# --- for the task that walks the user directory (chalicelib/engagement) ----------------------------


def get_broadcast(broadcast_id: str) -> Broadcast | None:
    return data.get_broadcast(broadcast_id)


def deliver_copy(user_id: str, broadcast: Broadcast) -> bool:
    """An announcement sent to a segment, into one inbox (once: its id is the announcement's)."""
    if broadcast.notification_id is None or broadcast.sent_at is None:
        raise ValueError(f"announcement {broadcast.broadcast_id} has not been sent")
    entry = data.feed_entry(broadcast, broadcast.notification_id, broadcast.sent_at)
    try:
        with transaction() as tx:
            data.add_delivery(tx, user_id, entry)
            data.add_unread(tx, user_id, entry.sent_at)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            return False  # already in this inbox (a retried page)
        raise
    return True


def count_emailed(broadcast_id: str, count: int) -> None:
    if count:
        data.add_emailed(broadcast_id, count)
