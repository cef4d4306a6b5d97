"""Two-factor sign-in (TOTP, RFC 6238): setup, confirm, login with a challenge, replay refused,
recovery codes, throttled attempts, turning it off, and staff who must have it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine

from chalicelib.core import config
from chalicelib.core.security import Role
from tests.support.accounts import PASSWORD, register, staff

START = datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC)


def login(client, email, password=PASSWORD):
    return client.post("/auth/login", {"email": email, "password": password})


def turn_on(client, token):
    setup = client.post("/me/2fa/setup", token=token)
    assert setup.status == 200, setup
    secret = setup.json["secret"]
    confirmed = client.post("/me/2fa/confirm", {"code": pyotp.TOTP(secret).now()}, token=token)
    assert confirmed.status == 200, confirmed
    return secret, confirmed.json["recovery_codes"]


def test_setup_confirm_and_sign_in_with_a_code_each_code_once(client):
    with time_machine.travel(START, tick=False) as traveller:
        token = register(client, "careful@example.com")["access"]
        setup = client.post("/me/2fa/setup", token=token).json
        assert setup["otpauth_uri"].startswith("otpauth://totp/") and "OpenMRCS" in setup["otpauth_uri"]
        bad = client.post("/me/2fa/confirm", {"code": "000000"}, token=token)
        assert bad.status == 422 and bad.json["error"]["details"][0]["type"] == "invalid_code"
        codes = client.post("/me/2fa/confirm", {"code": pyotp.TOTP(setup["secret"]).now()}, token=token).json
        assert len(codes["recovery_codes"]) == 10 and len(set(codes["recovery_codes"])) == 10
        traveller.shift(timedelta(seconds=30))  # the confirming code's step is spent: use the next one
        answer = login(client, "careful@example.com")
        assert answer.status == 200 and set(answer.json) == {"challenge", "expires_in"}  # no tokens
        code = pyotp.TOTP(setup["secret"]).now()
        signed_in = client.post("/auth/2fa", {"challenge": answer.json["challenge"], "code": code})
        assert signed_in.status == 200 and client.get("/me", token=signed_in.json["access"]).status == 200
        again = client.post(
            "/auth/2fa", {"challenge": login(client, "careful@example.com").json["challenge"], "code": code}
        )
        assert again.status == 401  # replay of a used code


@pytest.mark.parametrize(("steps", "accepted"), [(-1, True), (1, True), (-2, False), (2, False)])
def test_one_step_of_clock_drift_is_accepted(client, steps, accepted):
    with time_machine.travel(START, tick=False) as traveller:
        token = register(client)["access"]
        secret, _ = turn_on(client, token)
        email = client.get("/me", token=token).json["email"]
        traveller.shift(timedelta(minutes=5))
        challenge = login(client, email).json["challenge"]
        code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps))
        status = client.post("/auth/2fa", {"challenge": challenge, "code": code}).status
    assert (status == 200) is accepted


def test_a_recovery_code_works_once(client):
    with time_machine.travel(START, tick=False):
        registered = register(client, "lost-phone@example.com")
        _, recovery = turn_on(client, registered["access"])
        first = client.post(
            "/auth/2fa", {"challenge": login(client, "lost-phone@example.com").json["challenge"], "code": recovery[0]}
        )
        assert first.status == 200
        second = client.post(
            "/auth/2fa", {"challenge": login(client, "lost-phone@example.com").json["challenge"], "code": recovery[0]}
        )
        assert second.status == 401


def test_wrong_codes_are_throttled_and_challenges_expire(client):
    with time_machine.travel(START, tick=False) as traveller:
        registered = register(client, "guessed@example.com")
        turn_on(client, registered["access"])
        challenge = login(client, "guessed@example.com").json["challenge"]
        statuses = [client.post("/auth/2fa", {"challenge": challenge, "code": f"{n:06d}"}).status for n in range(6)]
        assert statuses == [401] * 5 + [429]
        traveller.shift(timedelta(minutes=16))
        late = client.post("/auth/2fa", {"challenge": challenge, "code": "123456"})
        assert late.status == 401  # the 5-minute challenge is over


def test_turning_it_off_needs_proof(client):
    with time_machine.travel(START, tick=False):
        registered = register(client, "switch-off@example.com")
        token = registered["access"]
        turn_on(client, token)
        assert client.request("DELETE", "/me/2fa", {"password": "Not-my-password-1"}, token=token).status == 401
        assert client.request("DELETE", "/me/2fa", {"password": PASSWORD}, token=token).status == 204
        assert set(login(client, "switch-off@example.com").json) == {"access", "refresh"}


def test_staff_must_turn_it_on_where_the_stage_requires(client, monkeypatch):
    strict = config.get_settings().model_copy(update={"require_staff_2fa": True})
    monkeypatch.setattr("chalicelib.core.security.get_settings", lambda: strict)
    with time_machine.travel(START, tick=False):
        editor = staff(client, Role.EDITOR)
        refused = client.post("/categories", {"slug": "guarded", "name": "Guarded"}, token=editor["access"])
        assert refused.status == 403 and refused.error_code == "two_factor_required"
        turn_on(client, editor["access"])
        allowed = client.post("/categories", {"slug": "guarded", "name": "Guarded"}, token=editor["access"])
        assert allowed.status == 201
        learner = register(client)["access"]
        assert client.get("/dashboard", token=learner).status == 200  # learners opt in
