"""Registration, login, lockout, refresh rotation and sessions, through HTTP."""

from __future__ import annotations

import threading

import time_machine

from tests.support.accounts import PASSWORD, register


def login(client, email, password=PASSWORD, **kwargs):
    return client.post("/auth/login", {"email": email, "password": password}, **kwargs)


class TestRegister:
    def test_returns_tokens_and_user(self, client):
        body = register(client, "Ada@Example.com", name="Ada")
        assert set(body) == {"access", "refresh", "user"}
        assert body["user"]["email"] == "ada@example.com"
        assert body["user"]["role"] == "user"
        assert body["user"]["is_email_verified"] is False
        me = client.get("/me", token=body["access"])
        assert me.status == 200 and me.json["id"] == body["user"]["id"]

    def test_email_is_unique_case_insensitively(self, client):
        register(client, "dup@example.com")
        again = client.post("/auth/register", {"email": "DUP@example.com", "password": PASSWORD, "display_name": "X"})
        assert again.status == 409 and again.error_code == "conflict"

    def test_concurrent_registrations_of_one_email_create_one_account(self, client):
        results: list[int] = []

        def attempt(i: int) -> None:
            body = {"email": "race@example.com", "password": PASSWORD, "display_name": f"R{i}"}
            results.append(client.post("/auth/register", body).status)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [201] + [409] * 5
        assert login(client, "race@example.com").status == 200

    def test_role_cannot_be_set(self, client):
        body = {"email": "sneaky@example.com", "password": PASSWORD, "display_name": "S", "role": "admin"}
        response = client.post("/auth/register", body)
        assert response.status == 422
        assert response.json["error"]["details"][0]["field"] == "role"
        assert login(client, "sneaky@example.com").status == 401

    def test_password_policy(self, client):
        cases = {
            "short-1": "string_too_short",
            "password123": "password_too_common",
            "someone@example.com": "password_is_email",
        }
        for password, kind in cases.items():
            body = {"email": "someone@example.com", "password": password, "display_name": "S"}
            response = client.post("/auth/register", body)
            assert response.status == 422, password
            assert response.json["error"]["details"][0]["type"] == kind

    def test_missing_and_oversize_fields(self, client):
        missing = client.post("/auth/register", {"email": "a@example.com"})
        assert missing.status == 422
        assert {d["field"] for d in missing.json["error"]["details"]} == {"password", "display_name"}
        oversize = client.post(
            "/auth/register", {"email": "a@example.com", "password": PASSWORD, "display_name": "x" * 121}
        )
        assert oversize.status == 422 and oversize.json["error"]["details"][0]["field"] == "display_name"
        long_password = client.post(
            "/auth/register", {"email": "a@example.com", "password": "p" * 129, "display_name": "A"}
        )
        assert long_password.status == 422
        bad_email = client.post("/auth/register", {"email": "not-an-email", "password": PASSWORD, "display_name": "A"})
        assert bad_email.status == 422 and bad_email.json["error"]["details"][0]["field"] == "email"

    def test_password_is_stored_as_argon2id(self, client):
        from chalicelib.accounts import data

        user_id = register(client, "hash@example.com")["user"]["id"]
        stored = data.get_user(user_id)
        assert stored is not None and stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash


class TestLogin:
    def test_success(self, client):
        register(client, "l@example.com")
        response = login(client, "L@example.com")
        assert response.status == 200 and set(response.json) == {"access", "refresh"}
        assert response.headers["cache-control"] == "no-store"

    def test_wrong_password_and_unknown_email_look_the_same(self, client):
        register(client, "l@example.com")
        wrong = login(client, "l@example.com", "Wrong-password-1")
        unknown = login(client, "nobody@example.com", "Wrong-password-1")
        assert wrong.status == unknown.status == 401
        assert wrong.json["error"] == unknown.json["error"]

    def test_lockout_after_five_failures_for_fifteen_minutes(self, client):
        register(client, "lock@example.com")
        with time_machine.travel("2026-11-22 10:00:00Z", tick=False) as clock:
            for _ in range(5):
                assert login(client, "lock@example.com", "Wrong-password-1").status == 401
            locked = login(client, "lock@example.com")  # even the right password
            assert locked.status == 429 and locked.error_code == "rate_limited"
            assert int(locked.headers["retry-after"]) == 15 * 60
            clock.shift(14 * 60)
            still = login(client, "lock@example.com")
            assert still.status == 429 and int(still.headers["retry-after"]) == 60
            clock.shift(61)
            assert login(client, "lock@example.com").status == 200

    def test_failures_spread_beyond_the_window_do_not_lock(self, client):
        register(client, "slow@example.com")
        with time_machine.travel("2026-11-22 10:00:00Z", tick=False) as clock:
            for _ in range(4):
                assert login(client, "slow@example.com", "Wrong-password-1").status == 401
            clock.shift(16 * 60)
            for _ in range(4):
                assert login(client, "slow@example.com", "Wrong-password-1").status == 401
            assert login(client, "slow@example.com").status == 200

    def test_success_resets_the_failure_count(self, client):
        register(client, "reset@example.com")
        for _ in range(4):
            login(client, "reset@example.com", "Wrong-password-1")
        assert login(client, "reset@example.com").status == 200
        for _ in range(4):
            assert login(client, "reset@example.com", "Wrong-password-1").status == 401
        assert login(client, "reset@example.com").status == 200


class TestRefresh:
    def test_rotation_issues_a_new_pair_and_retires_the_old_refresh(self, client):
        tokens = register(client)
        rotated = client.post("/auth/refresh", {"refresh": tokens["refresh"]})
        assert rotated.status == 200
        assert rotated.json["refresh"] != tokens["refresh"]
        assert client.get("/me", token=rotated.json["access"]).status == 200
        again = client.post("/auth/refresh", {"refresh": rotated.json["refresh"]})
        assert again.status == 200

    def test_reusing_a_rotated_token_revokes_the_whole_family(self, client):
        tokens = register(client)
        rotated = client.post("/auth/refresh", {"refresh": tokens["refresh"]}).json
        stolen = client.post("/auth/refresh", {"refresh": tokens["refresh"]})
        assert stolen.status == 401
        # The legitimate holder's newer token is dead too: the thief cannot keep a foothold.
        assert client.post("/auth/refresh", {"refresh": rotated["refresh"]}).status == 401

    def test_access_token_is_not_a_refresh_token_and_vice_versa(self, client):
        tokens = register(client)
        assert client.post("/auth/refresh", {"refresh": tokens["access"]}).status == 401
        assert client.get("/me", token=tokens["refresh"]).status == 401

    def test_refresh_token_expires_after_seven_days(self, client):
        with time_machine.travel("2026-11-01 09:00:00Z", tick=False) as clock:
            tokens = register(client)
            clock.shift(7 * 24 * 3600 + 1)
            assert client.post("/auth/refresh", {"refresh": tokens["refresh"]}).status == 401

    def test_refresh_picks_up_a_role_change(self, client):
        from chalicelib.core.security import Role
        from tests.support.accounts import staff

        admin = staff(client, Role.ADMIN)
        learner = register(client)
        client.patch(f"/admin/users/{learner['user']['id']}", {"role": "editor"}, token=admin["access"])
        rotated = client.post("/auth/refresh", {"refresh": learner["refresh"]}).json
        assert client.get("/me", token=rotated["access"]).json["role"] == "editor"


class TestSessions:
    def test_lists_devices_and_revokes_one(self, client):
        register(client, "multi@example.com")
        phone = login(client, "multi@example.com", headers={"User-Agent": "Phone/1.0"}).json
        laptop = login(client, "multi@example.com", headers={"User-Agent": "Laptop/2.0"}).json
        sessions = client.get("/me/sessions", token=laptop["access"])
        assert sessions.status == 200
        devices = {s["device"]: s for s in sessions.json}
        assert {"Phone/1.0", "Laptop/2.0"} <= set(devices)
        assert devices["Laptop/2.0"]["current"] is True
        phone_id = devices["Phone/1.0"]["id"]
        assert client.delete(f"/me/sessions/{phone_id}", token=laptop["access"]).status == 204
        assert client.post("/auth/refresh", {"refresh": phone["refresh"]}).status == 401
        remaining = {s["device"] for s in client.get("/me/sessions", token=laptop["access"]).json}
        assert "Phone/1.0" not in remaining
        assert client.delete(f"/me/sessions/{phone_id}", token=laptop["access"]).status == 404

    def test_cannot_revoke_someone_elses_session(self, client):
        mine = register(client)
        theirs = register(client)
        their_session = client.get("/me/sessions", token=theirs["access"]).json[0]["id"]
        assert client.delete(f"/me/sessions/{their_session}", token=mine["access"]).status == 404
        assert client.post("/auth/refresh", {"refresh": theirs["refresh"]}).status == 200

    def test_logout_revokes_the_family(self, client):
        tokens = register(client)
        assert client.post("/auth/logout", token=tokens["access"]).status == 204
        assert client.post("/auth/refresh", {"refresh": tokens["refresh"]}).status == 401
