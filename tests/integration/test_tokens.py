"""Access tokens: only well-formed, correctly signed, unexpired tokens of the right kind get in."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
import time_machine

from chalicelib.core.config import get_settings
from tests.support.accounts import register


def forge(
    claims: dict[str, Any], *, secret: str | None = None, algorithm: str = "HS256", drop: tuple[str, ...] = ()
) -> str:
    settings = get_settings()
    now = int(time.time())
    payload = {
        "sub": "someone",
        "role": "admin",
        "sid": "s1",
        "typ": "access",
        "jti": "j1",
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        **claims,
    }
    for name in drop:
        payload.pop(name)
    return jwt.encode(payload, secret or settings.jwt_secret, algorithm=algorithm)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==")))


def test_valid_forged_shape_is_accepted_only_when_signed_with_our_secret(client):
    registered = register(client)
    user, sid = registered["user"], claims_of(registered["access"])["sid"]
    good = forge({"sub": user["id"], "role": "user", "sid": sid})
    assert client.get("/me", token=good).status == 200
    assert (
        client.get("/me", token=forge({"sub": user["id"]}, secret="another-secret-of-32-bytes-or-more!!")).status == 401
    )


@pytest.mark.parametrize(
    "token_kind",
    [
        "expired",
        "tampered",
        "alg_none",
        "hs512",
        "wrong_aud",
        "wrong_iss",
        "no_exp",
        "no_jti",
        "no_role",
        "refresh_as_access",
        "unknown_role",
        "garbage",
    ],
)
def test_bad_access_tokens_are_refused(client, token_kind):
    user_id = register(client)["user"]["id"]
    secret = get_settings().jwt_secret
    tokens = {
        "expired": lambda: forge({"sub": user_id, "exp": int(time.time()) - 1}),
        "tampered": lambda: _tamper(forge({"sub": user_id, "role": "user"})),
        "alg_none": lambda: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': user_id, 'role': 'admin'})}.",
        "hs512": lambda: forge({"sub": user_id}, algorithm="HS512", secret=secret),
        "wrong_aud": lambda: forge({"sub": user_id, "aud": "someone-else"}),
        "wrong_iss": lambda: forge({"sub": user_id, "iss": "evil"}),
        "no_exp": lambda: forge({"sub": user_id}, drop=("exp",)),
        "no_jti": lambda: forge({"sub": user_id}, drop=("jti",)),
        "no_role": lambda: forge({"sub": user_id}, drop=("role",)),
        "refresh_as_access": lambda: forge({"sub": user_id, "typ": "refresh"}),
        "unknown_role": lambda: forge({"sub": user_id, "role": "superuser"}),
        "garbage": lambda: "not.a.token",
    }
    response = client.get("/me", token=tokens[token_kind]())
    assert response.status == 401, token_kind
    assert response.error_code == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    return f"{header}.{b64(claims)}.{signature}"


def test_access_token_lives_fifteen_minutes(client):
    with time_machine.travel("2026-11-22 08:00:00Z", tick=False) as clock:
        access = register(client)["access"]
        clock.shift(15 * 60 - 1)
        assert client.get("/me", token=access).status == 200
        clock.shift(2)
        assert client.get("/me", token=access).status == 401


def test_claims_issued(client):
    access = register(client)["access"]
    claims = jwt.decode(access, options={"verify_signature": False})
    assert {"sub", "role", "exp", "iat", "jti", "iss", "aud"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_non_bearer_scheme_is_refused(client):
    response = client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status == 401


def test_short_signing_secret_is_refused(monkeypatch):
    from chalicelib.core import config
    from chalicelib.core.errors import ConfigurationError

    monkeypatch.setenv("JWT_SECRET", "too-short")
    config.get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError):
            _ = config.get_settings().jwt_secret
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_time_claims_must_be_json_numbers(client, claim):
    registered = register(client)
    sid, now = claims_of(registered["access"])["sid"], int(time.time())
    value = {"exp": str(now + 600), "iat": str(now), "nbf": str(now)}[claim]
    token = forge({"sub": registered["user"]["id"], "role": "user", "sid": sid, claim: value})
    response = client.get("/me", token=token)
    assert response.status == 401 and response.error_code == "unauthorized"


@pytest.mark.parametrize("who", ["unknown_session", "unknown_user"])
def test_a_token_for_a_session_or_user_that_does_not_exist_is_a_401(client, who):
    registered = register(client)
    claims = {"sub": registered["user"]["id"], "role": "user", "sid": "no-such-session"}
    if who == "unknown_user":
        claims = {"sub": "no-such-user", "role": "user", "sid": claims_of(registered["access"])["sid"]}
    for path in ("/me", "/dashboard", "/practice/sessions"):
        assert client.get(path, token=forge(claims)).status == 401
