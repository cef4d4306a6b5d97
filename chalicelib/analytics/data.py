"""Per-user analytics items and their keys. See docs/data-model.md, patterns AN1-AN12."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.core.db import TableItem, is_condition_failure, user_pk

AGG_PREFIX = "AGG#"
DAY_PREFIX = "DAY#"
LAST_PREFIX = "LAST#"
DISMISS_PREFIX = "DISMISS#"
SNAPSHOT_SK = "DASHBOARD"


def aggregate_sk(category: str, subcategory: str | None = None) -> str:
    return f"{AGG_PREFIX}{category}#{subcategory or ''}"


def aggregate_ref(user_id: str, category: str, subcategory: str | None = None) -> CategoryAggregate:
    """A keys-only handle for ADD updates inside a transaction."""
    return CategoryAggregate(PK=user_pk(user_id), SK=aggregate_sk(category, subcategory))


def day_ref(user_id: str, day: str) -> DailyStat:
    return DailyStat(PK=user_pk(user_id), SK=DAY_PREFIX + day)


WATERMARK_PREFIX = "APPLIED#PRACTICE#"


def watermark_ref(user_id: str, session_id: str) -> PracticeWatermark:
    """How many of a practice session's answers the pipeline has applied (a keys-only handle)."""
    return PracticeWatermark(PK=user_pk(user_id), SK=WATERMARK_PREFIX + session_id)


def watermarks(user_id: str, session_ids: list[str]) -> dict[str, int]:
    """Applied counts of these sessions (0 for none yet): one consistent BatchGetItem."""
    keys = [(user_pk(user_id), WATERMARK_PREFIX + sid) for sid in session_ids]
    found = PracticeWatermark.batch_get(keys, consistent_read=True)
    counts = {item.SK.removeprefix(WATERMARK_PREFIX): int(item.applied) for item in found}
    return {sid: counts.get(sid, 0) for sid in session_ids}


def exam_chunk_claim(user_id: str, session_id: str, chunk: int) -> AppliedRecord:
    """The claim that one chunk of a submitted exam's answers was applied (written with them)."""
    return AppliedRecord(PK=user_pk(user_id), SK=f"APPLIED#EXAM#{session_id}#{chunk:03d}")


def active_pk(day: str) -> str:
    return f"ACTIVE#{day}"


def active_marker(user_id: str, day: str, expires_at: int) -> ActiveUser:
    return ActiveUser(PK=active_pk(day), SK=user_pk(user_id), user_id=user_id, expires_at=expires_at)


def save_active_markers(markers: list[ActiveUser]) -> None:
    for marker in markers:
        marker.save()  # the same marker again changes nothing but its expiry


def heartbeat_claim(user_id: str, event_id: str, seconds: int, expires_at: int) -> HeartbeatClaim:
    return HeartbeatClaim(PK=user_pk(user_id), SK=f"HEARTBEAT#{event_id}", seconds=seconds, expires_at=expires_at)


def dismissal(user_id: str, category: str, until: str, expires_at: int) -> TopicDismissal:
    return TopicDismissal(
        PK=user_pk(user_id), SK=DISMISS_PREFIX + category, category=category, until=until, expires_at=expires_at
    )


def last_activity(user_id: str, kind: str, finished_at: str, order: str, summary: dict[str, Any]) -> LastActivity:
    return LastActivity(
        PK=user_pk(user_id), SK=LAST_PREFIX + kind, kind=kind, finished_at=finished_at, order=order, summary=summary
    )


def rescore_last_exam(user_id: str, session_id: str, score_percent: float) -> None:
    """A re-marked exam that is the learner's last shows its new score (if still the last one)."""
    try:
        last = LastActivity.get(user_pk(user_id), LAST_PREFIX + "exam", consistent_read=True)
    except LastActivity.DoesNotExist:
        return
    if not str(last.order or "").endswith(f"#{session_id}"):
        return
    try:
        last.update(
            actions=[LastActivity.summary.set({**dict(last.summary), "score_percent": score_percent})],
            condition=LastActivity.order == last.order,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def save_last_activity(item: LastActivity) -> bool:
    """Keep the newest finished session of a kind; an older one arriving late changes nothing."""
    try:
        item.save(condition=LastActivity.PK.does_not_exist() | (LastActivity.order < item.order))
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


def user_of(pk: str) -> str | None:
    """The user id of a per-user partition key, or None for any other partition."""
    prefix = user_pk("")
    return pk.removeprefix(prefix) if pk.startswith(prefix) else None


class CategoryAggregate(TableItem, discriminator="CategoryAggregate"):
    """A user's totals for one category (subcategory unset) or one subcategory."""

    category = UnicodeAttribute()
    subcategory = UnicodeAttribute(null=True)
    answered = NumberAttribute(default=0)
    correct = NumberAttribute(default=0)
    seen = NumberAttribute(null=True)  # distinct questions answered (the plan's coverage)
    last_practised_at = UnicodeAttribute(null=True)
    last_order = UnicodeAttribute(null=True)  # total order of the answer that set last_practised_at


class DailyStat(TableItem, discriminator="DailyStat"):
    """One day of study on the learner's own calendar."""

    date = UnicodeAttribute()
    answered = NumberAttribute(default=0)
    correct = NumberAttribute(default=0)
    attempt_time_sec = NumberAttribute(default=0)
    heartbeat_sec = NumberAttribute(default=0)


class AppliedRecord(TableItem, discriminator="AppliedRecord"):
    """Claim that one source record's effects were applied; written in the same transaction."""


class PracticeWatermark(TableItem, discriminator="PracticeWatermark"):
    """The sequence number of a session's newest applied answer; advanced only from the value the
    writer read, in the transaction that applies the answers above it."""

    applied = NumberAttribute(default=0)


class ActiveUser(TableItem, discriminator="ActiveUser"):
    """Who studied on a UTC day: the daily jobs Query these instead of scanning users."""

    user_id = UnicodeAttribute()


class LastActivity(TableItem, discriminator="LastActivity"):
    """The newest completed practice session or exam, kept only if newer than the one stored."""

    kind = UnicodeAttribute()  # practice | exam
    finished_at = UnicodeAttribute()
    order = UnicodeAttribute(null=True)  # finished_at#session id: a total order for same-instant ends
    summary = JSONAttribute()


class TopicDismissal(TableItem, discriminator="TopicDismissal"):
    category = UnicodeAttribute()
    until = UnicodeAttribute()


class HeartbeatClaim(TableItem, discriminator="HeartbeatClaim"):
    seconds = NumberAttribute()
    counted = BooleanAttribute(default=True)


class DashboardSnapshot(TableItem, discriminator="DashboardSnapshot"):
    """Everything GET /dashboard shows except what depends on 'now' (computed on read)."""

    computed_at = UnicodeAttribute()
    body = JSONAttribute()


def aggregates(
    user_id: str, category: str | None = None, *, consistent: bool = False
) -> dict[tuple[str, str | None], CategoryAggregate]:
    """A user's aggregates keyed by (category, subcategory): one Query, whatever the history size.
    The dashboard rebuild reads consistently: it runs right after the write it must include."""
    prefix = aggregate_sk(category) if category else AGG_PREFIX
    items = CategoryAggregate.query(
        user_pk(user_id), CategoryAggregate.SK.startswith(prefix), consistent_read=consistent
    )
    return {(item.category, item.subcategory): item for item in items}


def all_daily_stats(user_id: str) -> dict[str, DailyStat]:
    """Every day a learner studied: for whole-history jobs (reconcile), never a screen."""
    found = DailyStat.query(user_pk(user_id), DailyStat.SK.startswith(DAY_PREFIX), consistent_read=True)
    return {stat.date: stat for stat in found}


def daily_stats(user_id: str, first_day: str, last_day: str, *, consistent: bool = False) -> dict[str, DailyStat]:
    condition = DailyStat.SK.between(DAY_PREFIX + first_day, DAY_PREFIX + last_day)
    return {stat.date: stat for stat in DailyStat.query(user_pk(user_id), condition, consistent_read=consistent)}


def last_activities(user_id: str) -> dict[str, LastActivity]:
    found = LastActivity.query(user_pk(user_id), LastActivity.SK.startswith(LAST_PREFIX), consistent_read=True)
    return {a.kind: a for a in found}


def dismissals(user_id: str) -> list[TopicDismissal]:
    return list(
        TopicDismissal.query(user_pk(user_id), TopicDismissal.SK.startswith(DISMISS_PREFIX), consistent_read=True)
    )


def save_snapshot(user_id: str, computed_at: str, body: dict[str, Any]) -> bool:
    """Store a rebuilt snapshot unless a rebuild that started later is already stored."""
    item = DashboardSnapshot(PK=user_pk(user_id), SK=SNAPSHOT_SK, computed_at=computed_at, body=body)
    try:
        item.save(condition=DashboardSnapshot.PK.does_not_exist() | (DashboardSnapshot.computed_at < computed_at))
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


def replace_snapshot_body(stored: DashboardSnapshot, body: dict[str, Any]) -> bool:
    """Swap the body of the snapshot we read, unless a rebuild replaced it meanwhile."""
    item = DashboardSnapshot(PK=stored.PK, SK=stored.SK, computed_at=stored.computed_at, body=body)
    try:
        item.save(condition=DashboardSnapshot.computed_at == stored.computed_at)
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


def snapshot(user_id: str) -> DashboardSnapshot | None:
    try:
        return DashboardSnapshot.get(user_pk(user_id), SNAPSHOT_SK)  # eventually consistent: half the cost
    except DoesNotExist:
        return None


def active_markers(user_id: str, days: list[str]) -> list[ActiveUser]:
    """Keys-only handles of a user's active-day markers (they live in per-day partitions)."""
    return [ActiveUser(PK=active_pk(day), SK=user_pk(user_id)) for day in days]


def active_users(day: str) -> list[str]:
    return [item.user_id for item in ActiveUser.query(active_pk(day))]


def active_days(user_id: str, days: list[str]) -> set[str]:
    """Which of these UTC days the learner studied on: one BatchGetItem of their day markers."""
    keys = [(active_pk(day), user_pk(user_id)) for day in days]
    return {
        str(item.PK).removeprefix(active_pk("")) for item in ActiveUser.batch_get(keys) if isinstance(item, ActiveUser)
    }


def last_active_days(days: list[str]) -> dict[str, str]:
    """Each learner active on any of these UTC days, with the latest of them: one Query per day
    (a daily job's read: it grows with active learners, never with every account)."""
    latest: dict[str, str] = {}
    for day in sorted(days):
        for user_id in active_users(day):
            latest[user_id] = day
    return latest
