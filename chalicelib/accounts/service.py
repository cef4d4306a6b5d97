"""Account rules: who may log in, how tokens rotate, what a reset revokes."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import pyotp
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.accounts import data, rules
from chalicelib.accounts.data import AuthSession, UserItem
from chalicelib.accounts.password_policy import check_password
from chalicelib.accounts.schemas import (
    EmailPreferences,
    RecoveryCodes,
    RegisterRequest,
    SessionOut,
    TokenPair,
    TwoFactorChallenge,
    TwoFactorSetup,
    UpdateProfileRequest,
    UserOut,
)
from chalicelib.audit.data import Change, audited_transaction, record
from chalicelib.core import clock
from chalicelib.core.cache import TtlCache
from chalicelib.core.config import get_settings
from chalicelib.core.db import is_condition_failure, retry_on_conflict
from chalicelib.core.email import get_sender, render
from chalicelib.core.errors import ApiError, Conflict, NotFound, TooManyRequests, Unauthorized, field_error
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.core.security import (
    Principal,
    Role,
    burn_password_check,
    decode_token,
    digest,
    hash_password,
    issue_access_token,
    issue_challenge_token,
    issue_refresh_token,
    issue_unsubscribe_token,
    needs_rehash,
    new_opaque_token,
    verify_password,
)
from chalicelib.core.timeutil import local_date
from chalicelib.limits import service as limits
from chalicelib.notifications import service as notifications
from chalicelib.notifications.data import Inbox

ANONYMOUS = "anonymous"  # the actor of events no signed-in user caused (a failed login)
INVALID_CREDENTIALS = "The email or password is incorrect."
VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"


class InvalidToken(ApiError):
    status, code = 400, "invalid_token"


@dataclass(frozen=True)
class NewAccount:
    tokens: TokenPair
    user: UserOut


def _now_ms() -> int:
    return int(time.time() * 1000)


def to_user_out(user: UserItem) -> UserOut:
    return UserOut(
        id=user.user_id,
        email=user.email,
        role=Role(user.role),
        is_email_verified=bool(user.is_email_verified),
        display_name=user.display_name,
        avatar=user.avatar_url,
        avatar_url=user.avatar_url,
        timezone=user.timezone,
        prefers_explanations=bool(user.prefers_explanations),
        created_at=clock.iso_from_ms(user.created_at),
        email_preferences=EmailPreferences(**rules.email_prefs(user.email_preferences)),
        review_retention=float(user.review_retention) if user.review_retention is not None else None,
        exam_date=user.exam_date,
        daily_minutes=int(user.daily_minutes) if user.daily_minutes is not None else None,
    )


# --- registration and login ---------------------------------------------------------------------


def register(request: RegisterRequest, *, device: str, client_ip: str) -> NewAccount:
    limits.consume(limits.limit("register-ip"), client_ip, "Too many registrations from this network; try later.")
    check_password(request.password, email=request.email)
    user = _new_user(request.email, request.password, request.display_name, role=Role.USER)
    session, tokens = _start_session(user, device)
    verify_token, verify_item = _new_one_time_token(VERIFY_EMAIL, user.user_id, get_settings().verify_token_ttl_sec)
    claim, user = data.new_user_items(user)
    inbox = notifications.new_inbox(user.user_id, clock.iso_ms_from_ms(user.created_at))
    try:
        data.create_user(claim, user, extra=[session, verify_item, inbox])
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise Conflict("An account with this email already exists.") from exc
        raise
    _send_verification(user, verify_token)
    metrics.add_metric(name="UserRegistered", unit="Count", value=1)
    logger.info("user registered", extra={"user_id": user.user_id})
    return NewAccount(tokens=tokens, user=to_user_out(user))


def _new_user(email: str, password: str, display_name: str, *, role: Role, verified: bool = False) -> UserItem:
    now = _now_ms()
    return UserItem(
        user_id=clock.new_id(),
        email=email.strip().lower(),
        password_hash=hash_password(password),
        role=role.value,
        is_email_verified=verified,
        display_name=display_name,
        created_at=now,
        updated_at=now,
    )


def login(email: str, password: str, *, device: str, client_ip: str) -> TokenPair | TwoFactorChallenge:
    account = email.strip().lower()
    # Every attempt is counted BEFORE the password is checked, atomically: N parallel guesses cost
    # N attempts and the next is refused whatever the timing. A right password gives its hits back.
    # Per account and IP, so a stranger elsewhere cannot lock a user out; plus a ceiling per account.
    attempts = [(limits.limit("login-account-ip"), f"{account}|{client_ip}"), (limits.limit("login-account"), account)]
    claim = data.get_email_claim(email)
    user = data.get_user(claim.user_id) if claim else None
    try:
        for limit, subject in attempts:
            limits.consume(limit, subject, "Too many failed logins; try again later.")
    except TooManyRequests:
        if user is not None:
            record(Change(ANONYMOUS, "auth.login_throttled", "user", user.user_id, after={"ip": client_ip}))
        raise
    if user is None:
        burn_password_check(password)
        _login_failed(None)
    elif not verify_password(user.password_hash, password):
        _login_failed(user)
    # The right password clears this account's failures from this IP, and gives back its own hit on
    # the per-account ceiling (other IPs' failures there still count).
    limits.reset(*attempts[0])
    limits.refund(*attempts[1])
    if user.two_factor:
        return _challenge(user)
    _rehash_if_needed(user, password)
    known = _known_devices(user.user_id)
    session, tokens = _start_session(user, device)
    session.save()
    _mail_if_new_device(user, session.device, known)
    logger.info("login succeeded", extra={"user_id": user.user_id})
    return tokens


def _known_devices(user_id: str) -> set[str]:
    return {s.device for s in data.list_sessions(user_id)}


def _mail_if_new_device(user: UserItem, device: str, known: set[str]) -> None:
    """Security mail (sent whatever the email preferences): a sign-in from a device never seen."""
    if device in known:
        return
    context = {
        "device": device,
        "when": clock.iso(clock.now()),
        "link": f"{get_settings().public_app_url}/forgot-password",
    }
    _security_mail(user, "new_sign_in", "New sign-in to your OpenMRCS account", context)


def _security_mail(user: UserItem, template: str, subject: str, context: dict[str, str]) -> None:
    values = {"name": user.display_name, **context}
    get_sender().send(render(template, to=user.email, subject=subject, context=values))


def _login_failed(user: UserItem | None) -> NoReturn:
    metrics.add_metric(name="LoginFailed", unit="Count", value=1)
    if user is not None:  # unknown addresses have no account to attach the event to
        record(Change(ANONYMOUS, "auth.login_failed", "user", user.user_id))
    logger.info("login failed", extra={"user_id": user.user_id if user else None})
    raise Unauthorized(INVALID_CREDENTIALS)


def _rehash_if_needed(user: UserItem, password: str) -> None:
    if not needs_rehash(user.password_hash):
        return
    try:
        user.update(actions=[UserItem.password_hash.set(hash_password(password))])
    except UpdateError as exc:  # a concurrent change wins; the login itself still stands
        if not is_condition_failure(exc):
            raise


def _start_session(user: UserItem, device: str) -> tuple[AuthSession, TokenPair]:
    session_id = clock.new_id()
    refresh = issue_refresh_token(user.user_id, session_id)
    access = issue_access_token(user.user_id, user.role, session_id)
    session = data.new_session(user.user_id, session_id, refresh.jti, device[:200], _now_ms(), refresh.expires_at)
    _remember_live(user, session_id)
    return session, TokenPair(access=access.token, refresh=refresh.token)


# --- sessions that end everywhere -----------------------------------------------------------------

# Every authenticated request checks that its session is still live and takes the user's current
# role from the table, not from the token. A container keeps what it read for 30 s, so a steady
# user costs at most one BatchGetItem (profile + session) per 30 s per container, and a logout,
# revocation, password reset or role change is enforced everywhere within 30 s (at once on the
# container that made it).
SESSION_STATE_TTL_SEC = 30


@dataclass(frozen=True)
class SessionState:
    live: bool
    role: Role | None = None
    email_verified: bool = False
    two_factor: bool = False


_session_states: TtlCache[SessionState] = TtlCache("session-states", SESSION_STATE_TTL_SEC, max_entries=20_000)

# The learner's time zone has one source, their profile. Per-day reads need it on every request,
# so a container keeps it for 30 s (the session check's read fills it, so it is usually free); a change
# made through PATCH /me is seen at once by the container that made it.
ZONE_TTL_SEC = 30
_learner_zones: TtlCache[str] = TtlCache("learner-time-zones", ZONE_TTL_SEC)


def learner_timezone(user_id: str) -> str:
    def load() -> str:
        user = data.get_user(user_id)
        return user.timezone if user else "UTC"

    return _learner_zones.get_or_load(user_id, load)


def _remember_live(user: UserItem, session_id: str) -> None:
    _session_states.put((user.user_id, session_id), _state_of(user))
    _learner_zones.put(user.user_id, user.timezone)


def _forget_sessions_of(user_id: str) -> None:
    _session_states.discard_if(lambda key: isinstance(key, tuple) and key[0] == user_id)


def current_principal(claimed: Principal) -> Principal:
    """The token's principal as the table says it is now: refused (401) if its session ended or
    its user is gone; its role is the current one."""

    def load() -> SessionState:
        user, session = data.get_user_and_session(claimed.user_id, claimed.session_id)
        if user is None or session is None or not _is_live(session, user):
            return SessionState(False)
        _learner_zones.put(user.user_id, user.timezone)  # the same read serves per-day analytics
        return _state_of(user)

    state = _session_states.get_or_load((claimed.user_id, claimed.session_id), load)
    if not state.live or state.role is None:
        raise Unauthorized("The session has ended; log in again.")
    return replace(claimed, role=state.role, email_verified=state.email_verified, two_factor=state.two_factor)


def _state_of(user: UserItem) -> SessionState:
    return SessionState(True, Role(user.role), bool(user.is_email_verified), user.two_factor)


# --- refresh rotation and revocation -------------------------------------------------------------


def refresh(refresh_token: str) -> TokenPair:
    claims = decode_token(refresh_token, expected_type="refresh")
    user, session = data.get_user_and_session(str(claims["sub"]), str(claims["sid"]))
    if user is None or session is None or not _is_live(session, user):
        raise Unauthorized("The session has ended; log in again.")
    if claims["jti"] != session.current_jti:
        _revoke(session, reason="refresh_token_reuse")
        raise Unauthorized("This refresh token was already used; the session has been revoked.")
    new_refresh = issue_refresh_token(user.user_id, session.session_id)
    try:
        session.update(
            actions=[
                AuthSession.current_jti.set(new_refresh.jti),
                AuthSession.last_used_at.set(_now_ms()),
                AuthSession.expires_at.set(new_refresh.expires_at),
            ],
            condition=(AuthSession.current_jti == claims["jti"]) & AuthSession.revoked_at.does_not_exist(),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        # Another request rotated this token first: the same token was presented twice.
        _revoke(session, reason="refresh_token_reuse")
        raise Unauthorized("This refresh token was already used; the session has been revoked.") from exc
    access = issue_access_token(user.user_id, user.role, session.session_id)
    _remember_live(user, session.session_id)
    return TokenPair(access=access.token, refresh=new_refresh.token)


def _is_live(session: AuthSession, user: UserItem) -> bool:
    return (
        session.revoked_at is None
        and int(session.created_at) > int(user.sessions_valid_after)
        and int(session.expires_at or 0) > clock.epoch()
    )


def _revoke(session: AuthSession, *, reason: str) -> None:
    session.update(actions=[AuthSession.revoked_at.set(_now_ms()), AuthSession.revoked_reason.set(reason)])
    _session_states.invalidate((session.user_id, session.session_id))
    record(Change(session.user_id, "auth.session_revoked", "user", session.user_id, after={"reason": reason}))
    logger.warning("session revoked", extra={"user_id": session.user_id, "reason": reason})


def logout(principal: Principal) -> None:
    session = data.get_session(principal.user_id, principal.session_id)
    if session is not None and session.revoked_at is None:
        _revoke(session, reason="logout")


def list_sessions(principal: Principal) -> list[SessionOut]:
    user = data.get_user(principal.user_id)
    if user is None:
        raise Unauthorized()
    live = [s for s in data.list_sessions(principal.user_id) if _is_live(s, user)]
    live.sort(key=lambda s: int(s.last_used_at), reverse=True)
    return [
        SessionOut(
            id=s.session_id,
            device=s.device,
            created_at=clock.iso_from_ms(s.created_at),
            last_used_at=clock.iso_from_ms(s.last_used_at),
            current=s.session_id == principal.session_id,
        )
        for s in live
    ]


def revoke_session(principal: Principal, session_id: str) -> None:
    session = data.get_session(principal.user_id, session_id)
    if session is None or session.revoked_at is not None:
        raise NotFound("No such active session.")
    _revoke(session, reason="revoked_by_user")


# --- email verification and password reset -------------------------------------------------------


def _new_one_time_token(purpose: str, user_id: str, ttl_sec: int) -> tuple[str, data.OneTimeToken]:
    token = new_opaque_token()
    return token, data.new_token(digest(token), purpose, user_id, clock.epoch() + ttl_sec)


def _send_verification(user: UserItem, token: str) -> None:
    link = f"{get_settings().public_app_url}/verify-email?token={token}"
    context = {"name": user.display_name, "link": link}
    subject = "Confirm your OpenMRCS email address"
    get_sender().send(render("verify_email", to=user.email, subject=subject, context=context))


def _limit_mail(address: str, client_ip: str) -> None:
    """One mailbox cannot be flooded, and one network cannot mail many mailboxes."""
    limits.consume(limits.limit("mail-address"), address.strip().lower(), "Too many emails to this address; try later.")
    limits.consume(limits.limit("mail-ip"), client_ip, "Too many requests from this network; try later.")


def resend_verification(principal: Principal, *, client_ip: str) -> None:
    user = data.get_user(principal.user_id)
    if user is None:
        raise Unauthorized()
    if user.is_email_verified:
        raise Conflict("This email address is already verified.")
    _limit_mail(user.email, client_ip)
    token, item = _new_one_time_token(VERIFY_EMAIL, user.user_id, get_settings().verify_token_ttl_sec)
    item.save()
    _send_verification(user, token)


def _redeem(token: str, purpose: str) -> tuple[data.OneTimeToken, UserItem]:
    item = data.get_token(digest(token))
    if item is None or item.purpose != purpose or int(item.expires_at or 0) <= clock.epoch():
        raise InvalidToken("This link is invalid or has expired.")
    user = data.get_user(item.user_id)
    if user is None:
        raise InvalidToken("This link is invalid or has expired.")
    return item, user


def _spend(item: data.OneTimeToken, user: UserItem, actions: list[Action]) -> None:
    try:
        data.consume_token_and_update_user(item, user, actions, extra=[])
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise InvalidToken("This link is invalid or has expired.") from exc
        raise


def verify_email(token: str) -> UserOut:
    item, user = _redeem(token, VERIFY_EMAIL)
    _spend(item, user, [UserItem.is_email_verified.set(True), UserItem.updated_at.set(_now_ms())])
    user.is_email_verified = True
    _forget_sessions_of(user.user_id)  # this container sees the verification at once
    return to_user_out(user)


def forgot_password(email: str, *, client_ip: str) -> None:
    _limit_mail(email, client_ip)  # counted for unknown addresses too: the answer must not differ
    claim = data.get_email_claim(email)
    user = data.get_user(claim.user_id) if claim else None
    if user is None:
        return  # same answer either way: the endpoint must not reveal who has an account
    token, item = _new_one_time_token(RESET_PASSWORD, user.user_id, get_settings().reset_token_ttl_sec)
    item.save()
    link = f"{get_settings().public_app_url}/reset-password?token={token}"
    context = {"name": user.display_name, "link": link}
    get_sender().send(render("reset_password", to=user.email, subject="Reset your OpenMRCS password", context=context))


def reset_password(token: str, new_password: str) -> None:
    item, user = _redeem(token, RESET_PASSWORD)
    check_password(new_password, email=user.email, field="new_password")
    now = _now_ms()
    _spend(
        item,
        user,
        [
            UserItem.password_hash.set(hash_password(new_password)),
            UserItem.sessions_valid_after.set(now),  # every existing session dies with the old password
            UserItem.is_email_verified.set(True),  # the reset link proved ownership of the address
            UserItem.updated_at.set(now),
        ],
    )
    _forget_sessions_of(user.user_id)
    logger.info("password reset", extra={"user_id": user.user_id})


# --- profile and roles ---------------------------------------------------------------------------


def get_me(principal: Principal) -> UserOut:
    """The profile and the inbox's unread count: one BatchGetItem (and the inbox brought up to date
    when an announcement was sent since the learner last looked)."""
    user, others = data.get_user_with(principal.user_id, [notifications.inbox_key(principal.user_id)])
    if user is None:
        raise NotFound("This account no longer exists.")
    inbox = next((i for i in others if isinstance(i, Inbox)), None)
    registered_at = clock.iso_ms_from_ms(user.created_at)
    unread = notifications.unread_count(user.user_id, user.role, registered_at, inbox)
    return to_user_out(user).model_copy(update={"unread_notifications": unread})


def update_me(principal: Principal, request: UpdateProfileRequest) -> UserOut:
    changes = request.changes()
    if "avatar" in changes:  # the spec's name for the stored avatar_url
        changes["avatar_url"] = changes.pop("avatar")
    preferences = changes.pop("email_preferences", None)

    def attempt() -> UserItem:
        user = data.get_user(principal.user_id)
        if user is None:
            raise NotFound("This account no longer exists.")
        if changes.get("exam_date") is not None:
            zone = changes.get("timezone") or user.timezone or "UTC"
            if changes["exam_date"] < local_date(clock.now(), zone).isoformat():
                raise field_error("exam_date", "The exam date is in the past.", "past_date")
        if preferences:  # a partial change: the kinds not named keep their value
            given = {k: v for k, v in dict(preferences).items() if v is not None}
            changes["email_preferences"] = {**rules.email_prefs(user.email_preferences), **given}
        actions: list[Action] = [
            getattr(UserItem, name).set(value) if value is not None else getattr(UserItem, name).remove()
            for name, value in changes.items()
        ]
        user.update(actions=[*actions, UserItem.updated_at.set(_now_ms())])  # version-checked
        return user

    updated = to_user_out(retry_on_conflict(attempt))
    _learner_zones.invalidate(principal.user_id)
    return updated


def change_role(actor: Principal, user_id: str, role: Role) -> UserOut:
    user = data.get_user(user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.user_id == actor.user_id and role != Role.ADMIN:
        raise Conflict("You cannot remove your own admin role; ask another admin.")
    change = Change(
        actor.user_id, "user.role_changed", "user", user_id, before={"role": user.role}, after={"role": role.value}
    )
    with audited_transaction(change, otherwise=Conflict("The user changed meanwhile; retry.")) as tx:
        actions = [*data.role_actions(user, role.value), UserItem.updated_at.set(_now_ms())]
        tx.update(user, actions=actions)  # version-checked
    user.role = role.value
    _forget_sessions_of(user_id)
    logger.info("role changed", extra={"target_user_id": user_id, "role": role.value})
    return to_user_out(user)


def revoke_all_sessions(actor: Principal, user_id: str) -> None:
    """Admin: every session of the account ends (refresh refused at once, access within 30 s)."""
    user = data.get_user(user_id)
    if user is None:
        raise NotFound("No such user.")
    change = Change(actor.user_id, "user.sessions_revoked", "user", user_id)
    with audited_transaction(change, otherwise=Conflict("The user changed meanwhile; retry.")) as tx:
        tx.update(user, actions=[UserItem.sessions_valid_after.set(_now_ms()), UserItem.updated_at.set(_now_ms())])
    _forget_sessions_of(user_id)


def reset_two_factor(actor: Principal, user_id: str) -> None:
    """Admin: turn a locked-out user's two-factor sign-in off (they set it up again); their sessions
    end, and they are told by mail."""
    user = data.get_user(user_id)
    if user is None:
        raise NotFound("No such user.")
    if not user.two_factor:
        raise Conflict("Two-factor sign-in is not on for this account.")
    change = Change(actor.user_id, "user.two_factor_reset", "user", user_id)
    with audited_transaction(change, otherwise=Conflict("The user changed meanwhile; retry.")) as tx:
        tx.update(
            user,
            actions=[
                UserItem.totp_secret.remove(),
                UserItem.totp_pending_secret.remove(),
                UserItem.recovery_codes.remove(),
                UserItem.sessions_valid_after.set(_now_ms()),
                UserItem.updated_at.set(_now_ms()),
            ],
        )
    _forget_sessions_of(user_id)
    _mail_two_factor_change(user, "off")


def search_users(email_prefix: str, role: Role | None, limit: int, cursor: str | None) -> Page[UserOut]:
    """Staff search by address prefix (and role): one Query per role searched, merged in address
    order; the cursor remembers where each role's list stopped and which lists are finished."""
    roles = [role.value] if role is not None else list(data.ROLES_INDEXED)
    scope = f"user-search:{email_prefix}:{role.value if role else '*'}"
    state: dict[str, Any] = (decode_cursor(cursor, scope) if cursor else None) or {"after": {}, "done": []}
    fetched = {
        each: data.users_by_email(each, email_prefix, state["after"].get(each), limit + 1)
        for each in roles
        if each not in state["done"]
    }
    ordered = sorted((u for users in fetched.values() for u in users), key=lambda u: (u.email, u.user_id))
    page = ordered[:limit]
    for each, users in fetched.items():
        shown = [u for u in page if u.role == each]
        if shown:
            state["after"][each] = str(shown[-1].GSI1SK)
        if len(shown) == len(users) and len(users) <= limit:  # all of this role's matches are shown
            state["done"].append(each)
    more = any(each not in state["done"] for each in roles)
    return Page[UserOut](
        items=[to_user_out(u) for u in page], next_cursor=encode_cursor(state, scope) if more else None
    )


# --- provisioning (CLI and seeds, never HTTP) ----------------------------------------------------


def provision_user(email: str, password: str, display_name: str, role: Role) -> tuple[UserOut, bool]:
    """Create a verified account with a role, or return the existing one. Returns (user, created)."""
    existing = data.get_email_claim(email)
    if existing is not None:
        user = data.get_user(existing.user_id)
        assert user is not None
        return to_user_out(user), False
    check_password(password, email=email)
    claim, user = data.new_user_items(_new_user(email, password, display_name, role=role, verified=True))
    try:
        inbox = notifications.new_inbox(user.user_id, clock.iso_ms_from_ms(user.created_at))
        data.create_user(claim, user, extra=[inbox])
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            return provision_user(email, password, display_name, role)
        raise
    return to_user_out(user), True


def promote_to_admin(email: str) -> UserOut:
    claim = data.get_email_claim(email)
    user = data.get_user(claim.user_id) if claim else None
    if user is None:
        raise NotFound("No such user.")
    user.update(actions=[*data.role_actions(user, Role.ADMIN.value), UserItem.updated_at.set(_now_ms())])
    user.role = Role.ADMIN.value
    return to_user_out(user)


# --- two-factor sign-in (TOTP, RFC 6238) ------------------------------------------------------------

CHALLENGE_TTL_SEC = 300
RECOVERY_CODES = 10


def _challenge(user: UserItem) -> TwoFactorChallenge:
    token = issue_challenge_token(user.user_id, CHALLENGE_TTL_SEC)
    return TwoFactorChallenge(challenge=token.token, expires_in=CHALLENGE_TTL_SEC)


def _code_is_good(user: UserItem, code: str, secret: str | None = None) -> bool:
    """A current TOTP code not used before, or an unused recovery code; spending it atomically."""
    step = rules.totp_step(secret or user.totp_secret or "", code, clock.epoch())
    if step is not None:
        return data.spend_totp_step(user, step)
    return bool(user.recovery_codes) and data.spend_recovery_code(user, rules.recovery_digest(code))


def complete_two_factor(challenge: str, code: str, *, device: str) -> TokenPair:
    claims = decode_token(challenge, expected_type="2fa")
    user = data.get_user(str(claims["sub"]))
    if user is None or not user.two_factor:
        raise Unauthorized("The sign-in has expired; log in again.")
    limits.consume(limits.limit("2fa-attempts"), user.user_id, "Too many wrong codes; try again later.")
    if not _code_is_good(user, code):
        metrics.add_metric(name="TwoFactorFailed", unit="Count", value=1)
        raise Unauthorized("The code is not valid (or was already used).")
    limits.reset(limits.limit("2fa-attempts"), user.user_id)
    known = _known_devices(user.user_id)
    session, tokens = _start_session(user, device)
    session.save()
    _mail_if_new_device(user, session.device, known)
    logger.info("login succeeded", extra={"user_id": user.user_id, "two_factor": True})
    return tokens


def setup_two_factor(principal: Principal) -> TwoFactorSetup:
    user = _me(principal)
    if user.two_factor:
        raise Conflict("Two-factor sign-in is already on; turn it off first to change the device.")
    secret = pyotp.random_base32()
    user.update(actions=[UserItem.totp_pending_secret.set(secret)])  # version-checked
    return TwoFactorSetup(secret=secret, otpauth_uri=rules.provisioning_uri(secret, user.email))


def confirm_two_factor(principal: Principal, code: str) -> RecoveryCodes:
    user = _me(principal)
    if user.two_factor:
        raise Conflict("Two-factor sign-in is already on.")
    secret = user.totp_pending_secret
    if not secret:
        raise Conflict("Start with POST /me/2fa/setup.")
    step = rules.totp_step(secret, code, clock.epoch())
    if step is None:
        raise field_error("code", "The code does not match; check the device's clock and try again.", "invalid_code")
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]  # 40 bits each, shown once
    change = Change(principal.user_id, "user.two_factor_enabled", "user", principal.user_id)
    with audited_transaction(change, otherwise=Conflict("The account changed meanwhile; retry.")) as tx:
        tx.update(
            user,
            actions=[
                UserItem.totp_secret.set(secret),
                UserItem.totp_pending_secret.remove(),
                UserItem.totp_last_step.set(step),
                UserItem.recovery_codes.set({rules.recovery_digest(c) for c in codes}),
            ],
        )
    _forget_sessions_of(principal.user_id)
    _mail_two_factor_change(user, "on")
    return RecoveryCodes(recovery_codes=codes)


def _mail_two_factor_change(user: UserItem, state: str) -> None:
    context = {
        "state": state,
        "when": clock.iso(clock.now()),
        "link": f"{get_settings().public_app_url}/forgot-password",
    }
    _security_mail(user, "two_factor_changed", f"Two-factor sign-in turned {state}", context)


def disable_two_factor(principal: Principal, code: str | None, password: str | None) -> None:
    user = _me(principal)
    if not user.two_factor:
        raise Conflict("Two-factor sign-in is not on.")
    limits.consume(limits.limit("2fa-attempts"), user.user_id, "Too many wrong codes; try again later.")
    proven = (code is not None and _code_is_good(user, code)) or (
        password is not None and verify_password(user.password_hash, password)
    )
    if not proven:
        raise Unauthorized("A current code or the password is needed to turn two-factor sign-in off.")
    user = _me(principal)  # re-read: spending a code changed the item
    change = Change(principal.user_id, "user.two_factor_disabled", "user", principal.user_id)
    with audited_transaction(change, otherwise=Conflict("The account changed meanwhile; retry.")) as tx:
        tx.update(
            user,
            actions=[
                UserItem.totp_secret.remove(),
                UserItem.totp_pending_secret.remove(),
                UserItem.recovery_codes.remove(),
            ],
        )
    _forget_sessions_of(principal.user_id)
    _mail_two_factor_change(user, "off")


def _me(principal: Principal) -> UserItem:
    user = data.get_user(principal.user_id)
    if user is None:
        raise Unauthorized()
    return user


def check_second_factor(user: UserItem, code: str) -> bool:
    """A current code (spent once) or a recovery code, for actions that need fresh proof."""
    return _code_is_good(user, code)


def forget_user(user_id: str) -> None:
    """Drop what this container cached about an erased account (other containers within 30 s)."""
    _forget_sessions_of(user_id)
    _learner_zones.invalidate(user_id)


# --- optional email: preferences and one-click unsubscribe (RFC 8058) ---------------------------------


class InvalidLink(ApiError):
    status, code = 400, "invalid_link"


def unsubscribe_headers(user_id: str, kind: str) -> tuple[str, dict[str, str]]:
    """The link for the mail's footer and the headers that let mail clients unsubscribe in one click."""
    url = f"{get_settings().public_api_url}/unsubscribe?token={issue_unsubscribe_token(user_id, kind)}"
    return url, {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def unsubscribe(token: str) -> str:
    """Turn one kind of optional email off for the link's owner (idempotent); returns the kind."""
    try:
        claims = decode_token(token, expected_type="unsubscribe")
    except Unauthorized as exc:
        raise InvalidLink("This unsubscribe link is invalid or has expired.") from exc
    kind = str(claims.get("kind"))
    if kind not in rules.EMAIL_KINDS:
        raise InvalidLink("This unsubscribe link is invalid.")

    def attempt() -> None:
        user = data.get_user(str(claims["sub"]))
        if user is None:
            return  # the account is gone: nothing will be sent to it anyway
        preferences = {**rules.email_prefs(user.email_preferences), kind: False}
        user.update(actions=[UserItem.email_preferences.set(preferences), UserItem.updated_at.set(_now_ms())])

    retry_on_conflict(attempt)
    logger.info("unsubscribed", extra={"user_id": claims["sub"], "kind": kind})
    return kind
