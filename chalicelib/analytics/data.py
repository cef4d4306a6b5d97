"""Per-user analytics items and their keys. See docs/data-model.md, patterns AN1-AN12."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.db import TableItem, user_pk

AGG_PREFIX = "AGG#"
DAY_PREFIX = "DAY#"
SNAPSHOT_SK = "DASHBOARD"


def aggregate_sk(category: str, subcategory: str | None = None) -> str:
    return f"{AGG_PREFIX}{category}#{subcategory or ''}"


class CategoryAggregate(TableItem, discriminator="CategoryAggregate"):
    """A user's totals for one category (subcategory unset) or one subcategory."""

    category = UnicodeAttribute()
    subcategory = UnicodeAttribute(null=True)
    answered = NumberAttribute(default=0)
    correct = NumberAttribute(default=0)
    last_practised_at = UnicodeAttribute(null=True)


class DailyStat(TableItem, discriminator="DailyStat"):
    """One day of study on the learner's own calendar."""

    date = UnicodeAttribute()
    answered = NumberAttribute(default=0)
    correct = NumberAttribute(default=0)
    attempt_time_sec = NumberAttribute(default=0)
    heartbeat_sec = NumberAttribute(default=0)


class AppliedRecord(TableItem, discriminator="AppliedRecord"):
    """Claim that one source record's effects were applied; written in the same transaction."""


class ActiveUser(TableItem, discriminator="ActiveUser"):
    """Who studied on a UTC day: the daily jobs Query these instead of scanning users."""

    user_id = UnicodeAttribute()


class LastActivity(TableItem, discriminator="LastActivity"):
    """The newest completed practice session or exam, kept only if newer than the one stored."""

    kind = UnicodeAttribute()  # practice | exam
    finished_at = UnicodeAttribute()
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


def aggregates(user_id: str, category: str | None = None) -> dict[tuple[str, str | None], CategoryAggregate]:
    """A user's aggregates keyed by (category, subcategory): one Query, whatever the history size."""
    prefix = aggregate_sk(category) if category else AGG_PREFIX
    items = CategoryAggregate.query(user_pk(user_id), CategoryAggregate.SK.startswith(prefix))
    return {(item.category, item.subcategory): item for item in items}


def daily_stats(user_id: str, first_day: str, last_day: str) -> dict[str, DailyStat]:
    condition = DailyStat.SK.between(DAY_PREFIX + first_day, DAY_PREFIX + last_day)
    return {stat.date: stat for stat in DailyStat.query(user_pk(user_id), condition)}


def last_activities(user_id: str) -> dict[str, LastActivity]:
    return {a.kind: a for a in LastActivity.query(user_pk(user_id), LastActivity.SK.startswith("LAST#"))}


def dismissals(user_id: str) -> list[TopicDismissal]:
    return list(TopicDismissal.query(user_pk(user_id), TopicDismissal.SK.startswith("DISMISS#")))


def snapshot(user_id: str) -> DashboardSnapshot | None:
    try:
        return DashboardSnapshot.get(user_pk(user_id), SNAPSHOT_SK)  # eventually consistent: half the cost
    except DoesNotExist:
        return None


def active_users(day: str) -> list[str]:
    return [item.user_id for item in ActiveUser.query(f"ACTIVE#{day}")]
