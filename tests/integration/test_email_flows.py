"""Email verification and password reset: single-use, expiring, and a reset ends every session."""

from __future__ import annotations

import re

import time_machine

from tests.support.accounts import PASSWORD, register

NEW_PASSWORD = "Another-Strong-Pass-7"


def token_from(outbox, to: str, subject_word: str) -> str:
    mails = [m for m in outbox.messages() if m["to"] == to and subject_word in m["subject"]]
    assert mails, f"no {subject_word!r} mail to {to}"
    match = re.search(r"token=([\w-]+)", mails[-1]["body"])
    assert match
    return match.group(1)


class TestVerification:
    def test_verify_with_emailed_token_once(self, client, outbox):
        account = register(client, "v@example.com")
        token = token_from(outbox, "v@example.com", "Confirm")
        verified = client.post("/auth/verify-email", {"token": token})
        assert verified.status == 200 and verified.json["is_email_verified"] is True
        assert client.get("/me", token=account["access"]).json["is_email_verified"] is True
        reused = client.post("/auth/verify-email", {"token": token})
        assert reused.status == 400 and reused.error_code == "invalid_token"

    def test_token_expires_after_24_hours(self, client, outbox):
        with time_machine.travel("2026-11-22 08:00:00Z", tick=False) as clock:
            register(client, "late@example.com")
            token = token_from(outbox, "late@example.com", "Confirm")
            clock.shift(24 * 3600 + 1)
            assert client.post("/auth/verify-email", {"token": token}).status == 400

    def test_resend_sends_a_new_working_token(self, client, outbox):
        account = register(client, "again@example.com")
        first = token_from(outbox, "again@example.com", "Confirm")
        assert client.post("/auth/verify-email/resend", token=account["access"]).status == 202
        second = token_from(outbox, "again@example.com", "Confirm")
        assert second != first
        assert client.post("/auth/verify-email", {"token": second}).status == 200
        assert client.post("/auth/verify-email/resend", token=account["access"]).status == 409

    def test_stored_token_is_hashed(self, client, outbox):
        from chalicelib.accounts import data
        from chalicelib.core.security import digest

        register(client, "h@example.com")
        token = token_from(outbox, "h@example.com", "Confirm")
        assert data.get_token(token) is None
        assert data.get_token(digest(token)) is not None


class TestPasswordReset:
    def test_forgot_password_answers_the_same_for_unknown_addresses(self, client, outbox):
        register(client, "known@example.com")
        known = client.post("/auth/forgot-password", {"email": "known@example.com"})
        unknown = client.post("/auth/forgot-password", {"email": "unknown@example.com"})
        assert known.status == unknown.status == 202
        assert known.json == unknown.json
        assert [m["to"] for m in outbox.messages() if "Reset" in m["subject"]] == ["known@example.com"]

    def test_reset_changes_password_revokes_sessions_and_is_single_use(self, client, outbox):
        account = register(client, "r@example.com")
        client.post("/auth/forgot-password", {"email": "r@example.com"})
        token = token_from(outbox, "r@example.com", "Reset")
        response = client.post("/auth/reset-password", {"token": token, "new_password": NEW_PASSWORD})
        assert response.status == 204
        assert client.post("/auth/refresh", {"refresh": account["refresh"]}).status == 401
        assert client.post("/auth/login", {"email": "r@example.com", "password": PASSWORD}).status == 401
        fresh = client.post("/auth/login", {"email": "r@example.com", "password": NEW_PASSWORD})
        assert fresh.status == 200
        assert client.post("/auth/refresh", {"refresh": fresh.json["refresh"]}).status == 200
        reuse = client.post("/auth/reset-password", {"token": token, "new_password": "Yet-Another-Pass-9"})
        assert reuse.status == 400 and reuse.error_code == "invalid_token"

    def test_reset_token_expires_after_an_hour(self, client, outbox):
        with time_machine.travel("2026-11-22 08:00:00Z", tick=False) as clock:
            register(client, "slow@example.com")
            client.post("/auth/forgot-password", {"email": "slow@example.com"})
            token = token_from(outbox, "slow@example.com", "Reset")
            clock.shift(3601)
            response = client.post("/auth/reset-password", {"token": token, "new_password": NEW_PASSWORD})
            assert response.status == 400

    def test_reset_enforces_the_password_policy(self, client, outbox):
        register(client, "p@example.com")
        client.post("/auth/forgot-password", {"email": "p@example.com"})
        token = token_from(outbox, "p@example.com", "Reset")
        weak = client.post("/auth/reset-password", {"token": token, "new_password": "password123"})
        assert weak.status == 422 and weak.json["error"]["details"][0]["field"] == "new_password"
        # A refused attempt does not spend the token.
        assert client.post("/auth/reset-password", {"token": token, "new_password": NEW_PASSWORD}).status == 204

    def test_verification_token_cannot_reset_a_password(self, client, outbox):
        register(client, "mix@example.com")
        token = token_from(outbox, "mix@example.com", "Confirm")
        assert client.post("/auth/reset-password", {"token": token, "new_password": NEW_PASSWORD}).status == 400
