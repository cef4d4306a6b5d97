"""Study reminders, weekly summaries and announcement mail: the scheduled and queued work that
reaches learners outside a request. Each delivery is claimed once per learner per period in the
same transaction as its in-app notification (data.py), so a retried, doubled or half-finished run
changes nothing that already happened. The jobs read only active learners (the daily markers the
answer pipeline writes); announcement mail walks the user directory a page per task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.accounts import data as accounts
from chalicelib.accounts import rules as account_rules
from chalicelib.accounts.data import UserItem
from chalicelib.accounts.service import unsubscribe_headers
from chalicelib.analytics import data as analytics
from chalicelib.core import clock, flags
from chalicelib.core.config import get_settings
from chalicelib.core.db import is_condition_failure, transaction
from chalicelib.core.email import Email, get_sender, render
from chalicelib.core.observability import logger
from chalicelib.core.tasks import enqueue
from chalicelib.engagement import data, rules
from chalicelib.engagement.data import ClaimKey
from chalicelib.notifications import rules as notification_rules
from chalicelib.notifications import service as notifications
from chalicelib.notifications.data import Broadcast
from chalicelib.taxonomy import service as taxonomy

SUMMARY_CLAIM_TTL_SEC = 70 * 86400
ANNOUNCEMENT_CLAIM_TTL_SEC = 30 * 86400
DIRECTORY_PAGE = 100


@dataclass(frozen=True)
class Note:
    kind: str
    title: str
    body: str
    link: str | None = None


@dataclass
class Tally:
    notified: int = 0
    emailed: int = 0

    def add(self, delivered: tuple[bool, bool]) -> None:
        self.notified += int(delivered[0])
        self.emailed += int(delivered[1])

    def as_dict(self) -> dict[str, int]:
        return {"notified": self.notified, "emailed": self.emailed}


def deliver_once(
    key: ClaimKey,
    period: str,
    allowed: Any,
    user: UserItem,
    note: Note | None,
    email: Email | None,
    expires_at: int | None,
) -> tuple[bool, bool]:
    """The claim and the in-app note in one transaction, then the mail by whoever takes it.
    Returns (notified now, mailed now)."""
    claim = data.get_claim(key)
    notified = False
    if claim is None or claim.period != period:
        fresh = data.new_claim(key, period, email=email is not None, expires_at=expires_at)
        now = clock.iso_ms(clock.now())
        try:
            with transaction() as tx:
                tx.save(fresh, condition=allowed)
                if note is not None:
                    notifications.add_personal(
                        tx, user.user_id, clock.new_id(), note.kind, note.title, note.body, note.link, now
                    )
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                return False, False  # too soon for another, or another run claimed it first
            raise
        claim, notified = fresh, True
    if email is None or not rules.may_take_email(claim.email_state, claim.email_taken_at, clock.epoch()):
        return notified, False
    if not data.take_email(claim, clock.epoch(), clock.epoch() - rules.EMAIL_LEASE_SEC):
        return notified, False
    try:
        get_sender().send(email)
    except Exception:
        data.release_email(claim)  # refused, so not sent: the next run sends it at once
        raise
    data.email_sent(claim)
    return notified, True


def _mail(user: UserItem, kind: str, template: str, subject: str, context: dict[str, Any]) -> Email | None:
    """Optional mail, if the stage sends notification mail (the `notification_email` flag) and the
    learner allows this kind, with its one-click unsubscribe. The in-app notification goes either way."""
    if not flags.enabled("notification_email") or not account_rules.allows_email(user.email_preferences, kind):
        return None
    url, headers = unsubscribe_headers(user.user_id, kind)
    values = {"name": user.display_name, "unsubscribe_url": url, **context}
    return render(template, to=user.email, subject=subject, context=values, headers=headers)


def _learner(user_id: str) -> UserItem | None:
    user = accounts.get_user(user_id)
    return None if user is None or accounts.is_erased(user_id) else user


# --- study reminders ---------------------------------------------------------------------------------


def send_study_reminders() -> dict[str, int]:
    now = clock.now()
    settings = get_settings()
    after, hour = settings.reminder_after_days, settings.reminder_hour
    tally = Tally()
    latest = analytics.last_active_days(rules.utc_days(now.date(), rules.ACTIVE_WINDOW_DAYS))
    for user_id, last_day in sorted(latest.items()):
        if (now.date() - date.fromisoformat(last_day)).days < after - 1:
            continue  # studied too recently in any zone: no profile read
        user = _learner(user_id)
        local = rules.local_time(now, user.timezone) if user else now
        if user is None or not rules.reminder_due(last_day, local, after_days=after, hour=hour):
            continue
        tally.add(_remind(user, last_day, local, after))
    logger.info("study reminders", extra=tally.as_dict())
    return tally.as_dict()


def _remind(user: UserItem, last_day: str, local: datetime, after_days: int) -> tuple[bool, bool]:
    days = rules.days_since(last_day, local)
    link = f"{get_settings().public_app_url}/practice"
    note = Note(
        "reminder",
        "Time for a few questions",
        f"You last studied {days} days ago. Ten questions today keep your preparation on track.",
        "/practice",
    )
    email = _mail(user, "reminders", "study_reminder", "Time for a few questions", {"days": days, "link": link})
    allowed = data.older_than(rules.reminder_cutoff(local, after_days=after_days))
    return deliver_once(data.reminder_key(user.user_id), local.date().isoformat(), allowed, user, note, email, None)


# --- weekly summaries --------------------------------------------------------------------------------


def send_weekly_summaries() -> dict[str, int]:
    now = clock.now()
    tally = Tally()
    latest = analytics.last_active_days(rules.utc_days(now.date(), rules.SUMMARY_WINDOW_DAYS))
    for user_id in sorted(latest):
        user = _learner(user_id)
        local = rules.local_time(now, user.timezone) if user else now
        if user is None or not rules.summary_due(local):
            continue
        tally.add(_summarise(user, rules.last_week(local)))
    logger.info("weekly summaries", extra=tally.as_dict())
    return tally.as_dict()


def _summarise(user: UserItem, week: rules.Week) -> tuple[bool, bool]:
    stats = analytics.daily_stats(user.user_id, week.previous.monday.isoformat(), week.days[-1], consistent=True)
    days = {
        d: rules.DayFigures(int(s.answered), int(s.correct), int(s.attempt_time_sec) + int(s.heartbeat_sec))
        for d, s in stats.items()
    }
    overall = analytics.aggregates(user.user_id, consistent=True)
    categories = {cat: (int(a.answered), int(a.correct)) for (cat, sub), a in overall.items() if sub is None}
    summary = rules.weekly_summary(week, days, categories)
    names = taxonomy.category_names()
    weakest = names.get(summary.weakest, summary.weakest) if summary.weakest else None
    suggested = _suggested_topic(user.user_id)
    lines = [
        f"- Questions answered: {summary.answered}"
        + (f", {summary.accuracy_percent}% correct" if summary.answered else ""),
        f"- Study time: {summary.hours} h ({summary.delta_hours:+} h against the week before)",
        *([f"- Weakest category: {weakest}"] if weakest else []),
        *([f"- Suggested next: {suggested}"] if suggested else []),
    ]
    note = Note("weekly_summary", f"Your week ({summary.week})", "\n".join(lines), "/dashboard")
    context = {
        "week": summary.week,
        "answered": summary.answered,
        "accuracy": summary.accuracy_percent,
        "hours": summary.hours,
        "delta": f"{summary.delta_hours:+}",
        "weakest": weakest,
        "suggested": suggested,
        "link": f"{get_settings().public_app_url}/dashboard",
    }
    email = _mail(user, "weekly_summary", "weekly_summary", f"Your OpenMRCS week ({summary.week})", context)
    key = data.summary_key(user.user_id, summary.week)
    expires = clock.epoch() + SUMMARY_CLAIM_TTL_SEC
    return deliver_once(key, summary.week, data.fresh(), user, note, email, expires)


def _suggested_topic(user_id: str) -> str | None:
    snapshot = analytics.snapshot(user_id)
    topics = list((snapshot.body if snapshot else {}).get("suggested_topics") or [])
    return str(topics[0]["category"]) if topics else None


# --- announcements: mail, and segments' in-app copies -----------------------------------------------------


def deliver_broadcast(payload: dict[str, Any]) -> None:
    """One page of an announcement's audience, then the next page queued: a timeout or a retry
    re-runs a page, and the claims make that harmless."""
    broadcast = notifications.get_broadcast(str(payload["broadcast_id"]))
    if broadcast is None or broadcast.status != "sent" or broadcast.sent_at is None:
        return
    audience = notification_rules.Audience.from_json(broadcast.audience)
    shard, cursor = int(payload.get("shard") or 0), payload.get("cursor")
    if audience.user_ids is not None:
        ids = sorted(audience.user_ids)
        start = int(cursor or 0)
        users = [u for u in (_learner(i) for i in ids[start : start + DIRECTORY_PAGE]) if u is not None]
        following = start + DIRECTORY_PAGE if start + DIRECTORY_PAGE < len(ids) else None
        emailed = sum(_deliver_announcement(broadcast, audience, user) for user in users)
        notifications.count_emailed(broadcast.broadcast_id, emailed)
        if following is not None:
            enqueue(notifications.DELIVER_TASK, {**payload, "cursor": following})
        return
    users, following_key = accounts.directory_page(shard, cursor, DIRECTORY_PAGE)
    emailed = sum(_deliver_announcement(broadcast, audience, user) for user in users)
    notifications.count_emailed(broadcast.broadcast_id, emailed)
    if following_key is not None:
        enqueue(notifications.DELIVER_TASK, {**payload, "cursor": following_key})
    elif shard + 1 < accounts.DIRECTORY_SHARDS:
        enqueue(notifications.DELIVER_TASK, {**payload, "shard": shard + 1, "cursor": None})


def _deliver_announcement(broadcast: Broadcast, audience: notification_rules.Audience, user: UserItem) -> bool:
    """Returns whether a mail went now."""
    sent_at = str(broadcast.sent_at)
    learner = notification_rules.Learner(user.user_id, user.role, clock.iso_ms_from_ms(user.created_at))
    if audience.is_segment:
        days = rules.segment_days(
            datetime.fromisoformat(sent_at.replace("Z", "+00:00")), int(audience.inactive_days or 0)
        )
        active = analytics.active_days(user.user_id, days)
        if not notification_rules.in_segment(audience, sent_at, learner, active, days):
            return False
        notifications.deliver_copy(user.user_id, broadcast)
    elif not notification_rules.reaches(audience, bool(broadcast.include_future), sent_at, learner):
        return False
    if not broadcast.email:
        return False
    link = broadcast.link if broadcast.link and broadcast.link.startswith("https://") else None
    email = _mail(user, "announcements", "announcement", broadcast.title, {"body": broadcast.body, "link": link})
    if email is None:
        return False
    key = data.announcement_key(user.user_id, broadcast.broadcast_id)
    expires = clock.epoch() + ANNOUNCEMENT_CLAIM_TTL_SEC
    return deliver_once(key, broadcast.broadcast_id, data.fresh(), user, None, email, expires)[1]
