"""Account items and their keys. See docs/data-model.md, patterns A1-A12."""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.core.db import TableItem, is_condition_failure, transaction, user_pk


def email_pk(email: str) -> str:
    return f"EMAIL#{email.strip().lower()}"


PROFILE_SK = "PROFILE"
SESSION_PREFIX = "AUTHSESSION#"


class UserItem(TableItem, discriminator="User"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    role = UnicodeAttribute(default="user")
    is_email_verified = BooleanAttribute(default=False)
    display_name = UnicodeAttribute()
    avatar_url = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(default="UTC")
    prefers_explanations = BooleanAttribute(default=True)
    extra_time_percent = NumberAttribute(default=0)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    # Sessions created before this instant are dead (password reset, admin action): O(1) revoke-all.
    sessions_valid_after = NumberAttribute(default=0)
    # Two-factor sign-in (TOTP): the confirmed secret, a secret awaiting confirmation, the last time
    # step used (so each code works once) and the SHA-256 of each unused recovery code.
    totp_secret = UnicodeAttribute(null=True)
    totp_pending_secret = UnicodeAttribute(null=True)
    totp_last_step = NumberAttribute(default=0)
    recovery_codes = UnicodeSetAttribute(null=True)
    review_retention = NumberAttribute(null=True)  # desired recall for spaced review; default in review.rules
    exam_date = UnicodeAttribute(null=True)  # YYYY-MM-DD: the plan to exam day aims at it
    daily_minutes = NumberAttribute(null=True)  # the learner's daily study budget for the plan
    email_preferences = JSONAttribute(null=True)  # kind -> on/off; missing kinds take the defaults (rules.py)
    version = VersionAttribute()

    @property
    def two_factor(self) -> bool:
        return bool(self.totp_secret)


class EmailClaim(TableItem, discriminator="EmailClaim"):
    """Owns an address; created in the same transaction as the user, conditional on not existing."""

    user_id = UnicodeAttribute()


class AuthSession(TableItem, discriminator="AuthSession"):
    """One refresh-token family (one device). Only the newest token of the family is accepted."""

    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    current_jti = UnicodeAttribute()
    device = UnicodeAttribute(default="unknown")
    created_at = NumberAttribute()
    last_used_at = NumberAttribute()
    revoked_at = NumberAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)


class OneTimeToken(TableItem, discriminator="OneTimeToken"):
    """Email verification or password reset token, keyed by its SHA-256; deleted when used."""

    purpose = UnicodeAttribute()
    user_id = UnicodeAttribute()


def spend_totp_step(user: UserItem, step: int) -> bool:
    """Record a code's time step as used, only if it is later than any used before (replay)."""
    ref = UserItem(PK=user.PK, SK=user.SK)
    try:
        ref.update(
            actions=[UserItem.totp_last_step.set(step)],
            condition=UserItem.totp_last_step.does_not_exist() | (UserItem.totp_last_step < step),
            add_version_condition=False,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def spend_recovery_code(user: UserItem, code_digest: str) -> bool:
    """Remove one recovery code, only if it is still there (each works once)."""
    ref = UserItem(PK=user.PK, SK=user.SK)
    try:
        ref.update(
            actions=[UserItem.recovery_codes.delete({code_digest})],
            condition=UserItem.recovery_codes.contains(code_digest),
            add_version_condition=False,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


class ErasedUser(TableItem, discriminator="ErasedUser"):
    """Left by an erasure for two days (longer than the stream keeps records): late stream
    records of the erased account are dropped instead of recreating its data. Holds only the id."""


ERASED_TTL_SEC = 2 * 86400


def erased_marker(user_id: str, now: int) -> ErasedUser:
    return ErasedUser(PK=f"ERASED#{user_id}", SK="ERASED", expires_at=now + ERASED_TTL_SEC)


def is_erased(user_id: str) -> bool:
    try:
        ErasedUser.get(f"ERASED#{user_id}", "ERASED")
    except DoesNotExist:
        return False
    return True


def profile_key(user_id: str) -> tuple[str, str]:
    return user_pk(user_id), PROFILE_SK


def email_claim_ref(email: str) -> EmailClaim:
    return EmailClaim(PK=email_pk(email), SK="EMAIL")


def get_user(user_id: str) -> UserItem | None:
    try:
        return UserItem.get(user_pk(user_id), PROFILE_SK, consistent_read=True)
    except DoesNotExist:
        return None


def get_email_claim(email: str) -> EmailClaim | None:
    try:
        return EmailClaim.get(email_pk(email), "EMAIL", consistent_read=True)
    except DoesNotExist:
        return None


def get_session(user_id: str, session_id: str) -> AuthSession | None:
    try:
        return AuthSession.get(user_pk(user_id), SESSION_PREFIX + session_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_user_and_session(user_id: str, session_id: str) -> tuple[UserItem | None, AuthSession | None]:
    """Both items a refresh needs, in one BatchGetItem."""
    keys = [(user_pk(user_id), PROFILE_SK), (user_pk(user_id), SESSION_PREFIX + session_id)]
    user: UserItem | None = None
    session: AuthSession | None = None
    for item in TableItem.batch_get(keys, consistent_read=True):
        if isinstance(item, UserItem):
            user = item
        elif isinstance(item, AuthSession):
            session = item
    return user, session


def get_user_with(user_id: str, keys: list[tuple[str, str]]) -> tuple[UserItem | None, list[TableItem]]:
    """The profile and a few items another domain names (by its own keys), in one BatchGetItem."""
    found = list(TableItem.batch_get([(user_pk(user_id), PROFILE_SK), *keys], consistent_read=True))
    user = next((i for i in found if isinstance(i, UserItem)), None)
    return user, [i for i in found if not isinstance(i, UserItem)]


def list_sessions(user_id: str) -> list[AuthSession]:
    return list(AuthSession.query(user_pk(user_id), AuthSession.SK.startswith(SESSION_PREFIX)))


def get_token(token_digest: str) -> OneTimeToken | None:
    try:
        return OneTimeToken.get(f"TOKEN#{token_digest}", "TOKEN", consistent_read=True)
    except DoesNotExist:
        return None


def new_user_items(user: UserItem) -> tuple[EmailClaim, UserItem]:
    claim = EmailClaim(PK=email_pk(user.email), SK="EMAIL", user_id=user.user_id)
    user.PK, user.SK = user_pk(user.user_id), PROFILE_SK
    user.GSI2PK, user.GSI2SK = directory_key(user.user_id, int(user.created_at))
    user.GSI1PK, user.GSI1SK = email_index_key(user.role, user.email, user.user_id)
    return claim, user


# --- staff search by email prefix and role (GSI1 on the profile): one partition per role, ordered
# by address, so a prefix is one Query per role; an account's entry moves with its role.
ROLES_INDEXED = ("admin", "editor", "examiner", "user")


def email_index_key(role: str, email: str, user_id: str) -> tuple[str, str]:
    return f"USERS#ROLE#{role}", f"{email}#{user_id}"


def role_actions(user: UserItem, role: str) -> list[Action]:
    """A role change also moves the account's search entry (the caller's update applies both)."""
    pk, sk = email_index_key(role, user.email, user.user_id)
    return [UserItem.role.set(role), UserItem.GSI1PK.set(pk), UserItem.GSI1SK.set(sk)]


def users_by_email(role: str, prefix: str, after: str | None, limit: int) -> list[UserItem]:
    """Accounts of one role whose address starts with `prefix`, in address order, after `after`."""
    pk = f"USERS#ROLE#{role}"
    condition: Condition | None = (
        (UserItem.GSI1SK.startswith(prefix) if prefix else None)
        if after is None  # else: past the last one shown, still within the prefix
        else UserItem.GSI1SK.between(after + "\x00", prefix + "\U0010ffff")
    )
    return [u for u in UserItem.gsi1.query(pk, condition, limit=limit) if isinstance(u, UserItem)]


# --- the user directory: every account, for work that must reach all of them (announcement mail) --
# GSI2 on the profile, spread over shards so no index partition takes every registration; a walk
# Queries the shards one page at a time (never a Scan). Erasing the profile removes the entry.
DIRECTORY_SHARDS = 16


def directory_key(user_id: str, created_at_ms: int) -> tuple[str, str]:
    shard = int(hashlib.sha256(user_id.encode()).hexdigest()[:8], 16) % DIRECTORY_SHARDS
    return f"USERS#{shard:02d}", f"{created_at_ms:013d}#{user_id}"


def directory_page(
    shard: int, cursor: dict[str, Any] | None, limit: int
) -> tuple[list[UserItem], dict[str, Any] | None]:
    """One page of one shard of the directory, oldest account first; the cursor resumes it."""
    found = UserItem.gsi2.query(f"USERS#{shard:02d}", limit=limit, last_evaluated_key=cursor)
    users = [u for u in found if isinstance(u, UserItem)]
    return users, found.last_evaluated_key


def accounts_without_directory_entry() -> list[UserItem]:
    """Accounts made before the directory existed: a one-off maintenance Scan (never a request)."""
    missing = UserItem.GSI2PK.does_not_exist() | UserItem.GSI1PK.does_not_exist()
    found = UserItem.scan(filter_condition=missing)  # other types are dropped below
    return [u for u in found if isinstance(u, UserItem)]


def add_directory_entry(user: UserItem) -> None:
    pk, sk = directory_key(user.user_id, int(user.created_at))
    search_pk, search_sk = email_index_key(user.role, user.email, user.user_id)
    actions: list[Action] = [
        UserItem.GSI2PK.set(pk),
        UserItem.GSI2SK.set(sk),
        UserItem.GSI1PK.set(search_pk),
        UserItem.GSI1SK.set(search_sk),
    ]
    user.update(actions=actions, add_version_condition=False)


def new_session(user_id: str, session_id: str, jti: str, device: str, now: int, expires_at: int) -> AuthSession:
    return AuthSession(
        PK=user_pk(user_id),
        SK=SESSION_PREFIX + session_id,
        session_id=session_id,
        user_id=user_id,
        current_jti=jti,
        device=device,
        created_at=now,
        last_used_at=now,
        expires_at=expires_at,
    )


def new_token(token_digest: str, purpose: str, user_id: str, expires_at: int) -> OneTimeToken:
    # Indexed under the user (GSI1) so erasure finds the user's live links without a Scan.
    return OneTimeToken(
        PK=f"TOKEN#{token_digest}",
        SK="TOKEN",
        GSI1PK=_tokens_of_pk(user_id),
        GSI1SK=str(expires_at),
        purpose=purpose,
        user_id=user_id,
        expires_at=expires_at,
    )


def _tokens_of_pk(user_id: str) -> str:
    return f"TOKENS#{user_id}"


def one_time_tokens(user_id: str) -> list[TableItem]:
    """A user's unexpired verification and reset tokens (keys and digests only)."""
    return [t for t in OneTimeToken.gsi1.query(_tokens_of_pk(user_id)) if isinstance(t, OneTimeToken)]


def create_user(claim: EmailClaim, user: UserItem, extra: list[TableItem]) -> None:
    """Claim the email and create the user atomically; fails as a condition failure if taken."""
    with transaction() as tx:
        tx.save(claim, condition=EmailClaim.PK.does_not_exist())
        tx.save(user, condition=UserItem.PK.does_not_exist())
        for item in extra:
            tx.save(item)


def consume_token_and_update_user(
    token: OneTimeToken, user: UserItem, actions: list[Action], extra: list[TableItem]
) -> None:
    """Spend a one-time token and apply its effect in one transaction: a token works at most once."""
    with transaction() as tx:
        tx.delete(token, condition=OneTimeToken.PK.exists())
        tx.update(user, actions=actions)  # pynamodb adds the version condition: no lost update
        for item in extra:
            tx.save(item)
