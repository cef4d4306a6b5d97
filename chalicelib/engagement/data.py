"""Engagement claims and their keys. See docs/data-model.md, patterns E1-E4.

A claim says "this learner got this (reminder, weekly summary, announcement mail) for this period";
it is written in the same transaction as the in-app notification, so each lands once however often
a job runs. Its mail is sent by whoever takes it (pending -> sending -> sent): a run that died
mid-way leaves it pending (or sending, taken back after a lease) for the next run."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition

from chalicelib.core.db import TableItem, is_condition_failure, user_pk

REMINDER_SK = "ENGAGE#REMINDER"  # one item per learner: the last reminder's local date
SUMMARY_PREFIX = "ENGAGE#SUMMARY#"
ANNOUNCEMENT_PREFIX = "ENGAGE#MAIL#"

ClaimKey = tuple[str, str]


class EngagementClaim(TableItem, discriminator="EngagementClaim"):
    period = UnicodeAttribute()  # a local date, an ISO week or an announcement id
    email_state = UnicodeAttribute(default="none")  # none | pending | sending | sent
    email_taken_at = NumberAttribute(null=True)


def reminder_key(user_id: str) -> ClaimKey:
    return user_pk(user_id), REMINDER_SK


def summary_key(user_id: str, week: str) -> ClaimKey:
    return user_pk(user_id), SUMMARY_PREFIX + week


def announcement_key(user_id: str, broadcast_id: str) -> ClaimKey:
    return user_pk(user_id), ANNOUNCEMENT_PREFIX + broadcast_id


def get_claim(key: ClaimKey) -> EngagementClaim | None:
    try:
        return EngagementClaim.get(*key, consistent_read=True)
    except DoesNotExist:
        return None


def new_claim(key: ClaimKey, period: str, *, email: bool, expires_at: int | None) -> EngagementClaim:
    return EngagementClaim(
        PK=key[0], SK=key[1], period=period, email_state="pending" if email else "none", expires_at=expires_at
    )


def fresh() -> Condition:
    """The claim may be written only if none exists (a summary, an announcement mail)."""
    return EngagementClaim.PK.does_not_exist()


def older_than(period: str) -> Condition:
    """...or if the one that exists is for a period at or before this one (a reminder: one per N days)."""
    allowed: Condition = EngagementClaim.PK.does_not_exist() | (EngagementClaim.period <= period)
    return allowed


def take_email(claim: EngagementClaim, now_epoch: int, stale_before: int) -> bool:
    """Take the claim's mail to send it; False if another run has it (or it went)."""
    try:
        claim.update(
            actions=[EngagementClaim.email_state.set("sending"), EngagementClaim.email_taken_at.set(now_epoch)],
            condition=(EngagementClaim.period == claim.period)
            & (
                (EngagementClaim.email_state == "pending")
                | ((EngagementClaim.email_state == "sending") & (EngagementClaim.email_taken_at <= stale_before))
            ),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def email_sent(claim: EngagementClaim) -> None:
    claim.update(actions=[EngagementClaim.email_state.set("sent")])


def release_email(claim: EngagementClaim) -> None:
    """Give a taken mail back (its send failed): pending again for the next run."""
    claim.update(actions=[EngagementClaim.email_state.set("pending"), EngagementClaim.email_taken_at.remove()])
