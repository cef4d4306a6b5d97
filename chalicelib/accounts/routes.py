"""HTTP routes of the accounts domain: parse, call the service, return."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.accounts import service
from chalicelib.accounts.schemas import (
    Accepted,
    ChangeRoleRequest,
    Code,
    EmailOnlyRequest,
    LoginRequest,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    ResetPasswordRequest,
    SessionOut,
    TokenPair,
    TokenRequest,
    TwoFactorChallenge,
    TwoFactorLogin,
    TwoFactorOff,
    TwoFactorSetup,
    Unsubscribed,
    UnsubscribeQuery,
    UpdateProfileRequest,
    UserOut,
    UserSearchQuery,
)
from chalicelib.core.http import Call, Headers, endpoint
from chalicelib.core.pagination import Page
from chalicelib.core.security import Role

AUTH = ("auth",)
ME = ("me",)


def _device(call: Call) -> str:
    return call.header("user-agent") or "unknown"


# Examples in the API reference are the spec's own ("openmrcs-backend-spec.md").


@endpoint(
    "/auth/register",
    "POST",
    summary="Create an account",
    tags=AUTH,
    auth="public",
    body=RegisterRequest,
    response=RegisterResponse,
    status=201,
    no_store=True,
    errors=(400, 409, 422, 429),
)
def register(call: Call) -> RegisterResponse:
    account = service.register(call.body, device=_device(call), client_ip=call.client_ip)
    return RegisterResponse(access=account.tokens.access, refresh=account.tokens.refresh, user=account.user)


@endpoint(
    "/auth/login",
    "POST",
    summary="Log in with email and password (accounts with two-factor sign-in get a challenge instead of tokens)",
    tags=AUTH,
    auth="public",
    body=LoginRequest,
    response=TokenPair | TwoFactorChallenge,
    no_store=True,
    errors=(400, 401, 422, 429),
    example_request={"email": "user@example.com", "password": "secret"},
    example_response={"access": "jwt...", "refresh": "jwt..."},
)
def login(call: Call) -> TokenPair | TwoFactorChallenge:
    return service.login(call.body.email, call.body.password, device=_device(call), client_ip=call.client_ip)


@endpoint(
    "/auth/refresh",
    "POST",
    summary="Rotate a refresh token",
    tags=AUTH,
    auth="public",
    body=RefreshRequest,
    response=TokenPair,
    no_store=True,
    errors=(400, 401, 422),
)
def refresh(call: Call) -> TokenPair:
    return service.refresh(call.body.refresh)


@endpoint(
    "/auth/logout", "POST", summary="End this device's session", tags=AUTH, status=204, no_store=True, errors=(401,)
)
def logout(call: Call) -> None:
    service.logout(call.user)


@endpoint(
    "/auth/verify-email",
    "POST",
    summary="Confirm the email address",
    tags=AUTH,
    auth="public",
    body=TokenRequest,
    response=UserOut,
    no_store=True,
    errors=(400, 422),
)
def verify_email(call: Call) -> UserOut:
    return service.verify_email(call.body.token)


@endpoint(
    "/auth/verify-email/resend",
    "POST",
    summary="Send a new verification email",
    tags=AUTH,
    response=Accepted,
    status=202,
    no_store=True,
    errors=(401, 409, 429),
)
def resend_verification(call: Call) -> Accepted:
    service.resend_verification(call.user, client_ip=call.client_ip)
    return Accepted(message="A new verification email is on its way.")


@endpoint(
    "/auth/forgot-password",
    "POST",
    summary="Email a password reset link",
    tags=AUTH,
    auth="public",
    body=EmailOnlyRequest,
    response=Accepted,
    status=202,
    no_store=True,
    errors=(400, 422, 429),
)
def forgot_password(call: Call) -> Accepted:
    service.forgot_password(call.body.email, client_ip=call.client_ip)
    return Accepted(message="If an account exists for this address, a reset link has been sent.")


@endpoint(
    "/auth/reset-password",
    "POST",
    summary="Set a new password with a reset token",
    tags=AUTH,
    auth="public",
    body=ResetPasswordRequest,
    status=204,
    no_store=True,
    errors=(400, 422),
)
def reset_password(call: Call) -> None:
    service.reset_password(call.body.token, call.body.new_password)


@endpoint(
    "/me", "GET", summary="The signed-in user and profile", tags=ME, response=UserOut, no_store=True, errors=(401,)
)
def get_me(call: Call) -> UserOut:
    return service.get_me(call.user)


@endpoint(
    "/me",
    "PATCH",
    summary="Update the profile",
    tags=ME,
    body=UpdateProfileRequest,
    response=UserOut,
    no_store=True,
    errors=(400, 401, 422),
)
def update_me(call: Call) -> UserOut:
    return service.update_me(call.user, call.body)


@endpoint(
    "/me/sessions",
    "GET",
    summary="Active sessions (devices)",
    tags=ME,
    response=list[SessionOut],
    no_store=True,
    errors=(401,),
)
def list_sessions(call: Call) -> list[SessionOut]:
    return service.list_sessions(call.user)


@endpoint(
    "/me/sessions/{session_id}",
    "DELETE",
    summary="Revoke one session",
    tags=ME,
    status=204,
    no_store=True,
    errors=(401, 404),
)
def revoke_session(call: Call) -> None:
    service.revoke_session(call.user, call.params["session_id"])


@endpoint(
    "/admin/users",
    "GET",
    summary="Find accounts by address prefix and role (admins; no table scan)",
    tags=("admin",),
    roles=(Role.ADMIN,),
    query=UserSearchQuery,
    response=Page[UserOut],
    no_store=True,
    errors=(400, 401, 403, 422),
)
def search_users(call: Call) -> Page[UserOut]:
    return service.search_users(call.query.email, call.query.role, call.query.limit, call.query.cursor)


@endpoint(
    "/admin/users/{user_id}/sessions/revoke",
    "POST",
    summary="End every session of an account (admins; audited)",
    tags=("admin",),
    roles=(Role.ADMIN,),
    status=204,
    errors=(401, 403, 404, 409),
)
def revoke_user_sessions(call: Call) -> None:
    service.revoke_all_sessions(call.user, call.params["user_id"])


@endpoint(
    "/admin/users/{user_id}/2fa",
    "DELETE",
    summary="Reset an account's two-factor sign-in (admins; audited; the user is mailed)",
    tags=("admin",),
    roles=(Role.ADMIN,),
    status=204,
    errors=(401, 403, 404, 409),
)
def reset_user_two_factor(call: Call) -> None:
    service.reset_two_factor(call.user, call.params["user_id"])


@endpoint(
    "/admin/users/{user_id}",
    "PATCH",
    summary="Change a user's role (audited)",
    tags=("admin",),
    roles=(Role.ADMIN,),
    body=ChangeRoleRequest,
    response=UserOut,
    no_store=True,
    errors=(400, 401, 403, 404, 409, 422),
)
def change_role(call: Call) -> UserOut:
    return service.change_role(call.user, call.params["user_id"], call.body.role)


@endpoint(
    "/auth/2fa",
    "POST",
    summary="Complete a two-factor sign-in: the login's challenge and a code (or a recovery code)",
    tags=AUTH,
    auth="public",
    body=TwoFactorLogin,
    response=TokenPair,
    no_store=True,
    errors=(400, 401, 422, 429),
)
def complete_two_factor(call: Call) -> TokenPair:
    return service.complete_two_factor(call.body.challenge, call.body.code, device=_device(call))


@endpoint(
    "/me/2fa/setup",
    "POST",
    summary="Start two-factor sign-in: a secret and an otpauth:// URI for an authenticator app",
    tags=ME,
    response=TwoFactorSetup,
    no_store=True,
    errors=(401, 409),
)
def setup_two_factor(call: Call) -> TwoFactorSetup:
    return service.setup_two_factor(call.user)


@endpoint(
    "/me/2fa/confirm",
    "POST",
    summary="Turn two-factor sign-in on with a first code; returns one-time recovery codes",
    tags=ME,
    body=Code,
    response=RecoveryCodes,
    no_store=True,
    errors=(400, 401, 409, 422),
)
def confirm_two_factor(call: Call) -> RecoveryCodes:
    return service.confirm_two_factor(call.user, call.body.code)


@endpoint(
    "/me/2fa",
    "DELETE",
    summary="Turn two-factor sign-in off (needs a current code, a recovery code or the password)",
    tags=ME,
    body=TwoFactorOff,
    status=204,
    no_store=True,
    errors=(400, 401, 409, 422, 429),
)
def disable_two_factor(call: Call) -> None:
    service.disable_two_factor(call.user, call.body.code, call.body.password)


# One-click unsubscribe (RFC 8058): mail clients POST `List-Unsubscribe=One-Click` to the link in the
# `List-Unsubscribe` header; a person who follows the footer link gets a page with one button (a GET
# never changes anything: link scanners follow links).
UNSUBSCRIBE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body><main><h1>Unsubscribe</h1><p>Stop receiving this kind of email from OpenMRCS?</p>
<form method="post" action="?token={token}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form></main></body></html>"""
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain"]


@endpoint(
    "/unsubscribe",
    "GET",
    summary="The page behind an email's unsubscribe link (one button; nothing changes on GET)",
    tags=ME,
    auth="public",
    query=UnsubscribeQuery,
    errors=(400, 422),
)
def unsubscribe_page(call: Call) -> Response:
    import html

    headers: Headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    body = UNSUBSCRIBE_PAGE.format(token=html.escape(call.query.token, quote=True))
    return Response(body=body, status_code=200, headers=headers)


@endpoint(
    "/unsubscribe",
    "POST",
    summary="One-click unsubscribe (RFC 8058): turns the link's kind of email off, no login",
    tags=ME,
    auth="public",
    query=UnsubscribeQuery,
    response=Unsubscribed,
    content_types=FORM_TYPES,
    no_store=True,
    errors=(400, 415, 422),
)
def unsubscribe(call: Call) -> Unsubscribed:
    return Unsubscribed(unsubscribed=service.unsubscribe(call.query.token))
