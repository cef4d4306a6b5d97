"""Profile reads and edits, and role changes that only admins may make (audited)."""

from __future__ import annotations

import pytest

from chalicelib.audit.data import events_for_entity
from chalicelib.core.security import Role
from tests.support.accounts import register, staff


class TestProfile:
    def test_get_me_is_not_cached(self, client):
        account = register(client, name="Grace")
        response = client.get("/me", token=account["access"])
        assert response.json["display_name"] == "Grace"
        assert response.json["timezone"] == "UTC" and response.json["prefers_explanations"] is True
        assert response.headers["cache-control"] == "no-store"

    def test_patch_updates_only_given_fields(self, client):
        access = register(client, name="Grace")["access"]
        changes = {
            "timezone": "Europe/London",
            "avatar_url": "https://cdn.example.com/a.png",
            "prefers_explanations": False,
        }
        response = client.patch("/me", changes, token=access)
        assert response.status == 200
        me = client.get("/me", token=access).json
        assert me["timezone"] == "Europe/London" and me["display_name"] == "Grace"
        assert me["avatar_url"] == "https://cdn.example.com/a.png" and me["prefers_explanations"] is False
        assert client.patch("/me", {"avatar_url": None}, token=access).json["avatar_url"] is None

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
            ({"display_name": ""}, "display_name"),
            ({"role": "admin"}, "role"),
            ({"email": "new@example.com"}, "email"),
        ],
    )
    def test_patch_rejects_bad_fields(self, client, changes, field):
        access = register(client)["access"]
        response = client.patch("/me", changes, token=access)
        assert response.status == 422
        assert response.json["error"]["details"][0]["field"] == field
        assert client.get("/me", token=access).json["role"] == "user"

    def test_cannot_clear_required_fields(self, client):
        access = register(client)["access"]
        assert client.patch("/me", {"timezone": None}, token=access).status == 422

    def test_anonymous_gets_401(self, client):
        assert client.get("/me").status == 401
        assert client.patch("/me", {"display_name": "x"}).status == 401


class TestRoleChanges:
    def test_admin_changes_a_role_and_it_is_audited(self, client):
        admin = staff(client, Role.ADMIN)
        target = register(client)["user"]
        response = client.patch(f"/admin/users/{target['id']}", {"role": "examiner"}, token=admin["access"])
        assert response.status == 200 and response.json["role"] == "examiner"
        events = events_for_entity("user", target["id"])
        assert len(events) == 1
        event = events[0]
        assert event.actor_id == admin["user"]["id"] and event.action == "user.role_changed"
        assert '"user"' in (event.before or "") and '"examiner"' in (event.after or "")

    @pytest.mark.parametrize("role", [Role.USER, Role.EDITOR, Role.EXAMINER])
    def test_non_admins_cannot_change_roles(self, client, role):
        actor = staff(client, role) if role != Role.USER else register(client)
        target = register(client)["user"]
        response = client.patch(f"/admin/users/{target['id']}", {"role": "admin"}, token=actor["access"])
        assert response.status == 403 and response.error_code == "forbidden"
        assert events_for_entity("user", target["id"]) == []

    def test_user_cannot_promote_themselves(self, client):
        account = register(client)
        response = client.patch(f"/admin/users/{account['user']['id']}", {"role": "admin"}, token=account["access"])
        assert response.status == 403
        assert client.get("/me", token=account["access"]).json["role"] == "user"

    def test_admin_cannot_demote_themselves(self, client):
        admin = staff(client, Role.ADMIN)
        response = client.patch(f"/admin/users/{admin['user']['id']}", {"role": "user"}, token=admin["access"])
        assert response.status == 409

    def test_unknown_user_and_unknown_role(self, client):
        admin = staff(client, Role.ADMIN)
        assert client.patch("/admin/users/nope", {"role": "editor"}, token=admin["access"]).status == 404
        target = register(client)["user"]
        bad = client.patch(f"/admin/users/{target['id']}", {"role": "god"}, token=admin["access"])
        assert bad.status == 422 and bad.json["error"]["details"][0]["field"] == "role"


class TestUserSearch:
    """GET /admin/users?email=<prefix>&role=<role>: admins only, paged, one Query per role searched."""

    def test_prefix_and_role_in_address_order_across_pages(self, client, no_scan):
        from urllib.parse import quote

        from tests.support.accounts import register, staff

        admin = staff(client, Role.ADMIN)
        for name in ("zed", "amy", "bob", "cat"):
            register(client, f"{name}@search.test")
        editor = staff(client, Role.EDITOR)
        client.patch(f"/admin/users/{editor['user']['id']}", {"role": "editor"}, token=admin["access"])
        seen, cursor = [], None
        while True:
            query = "/admin/users?limit=2" + (f"&cursor={quote(cursor)}" if cursor else "")
            response = client.get(query, token=admin["access"])
            assert response.status == 200, response
            page = response.json
            seen += [u["email"] for u in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(seen) and len(seen) == len(set(seen)) == 6  # nothing twice, nothing missed
        found = client.get("/admin/users?email=B", token=admin["access"]).json["items"]
        assert [u["email"] for u in found] == ["bob@search.test"]
        editors = client.get("/admin/users?role=editor", token=admin["access"]).json["items"]
        assert [u["id"] for u in editors] == [editor["user"]["id"]]
        assert "Scan" not in no_scan.operations

    def test_a_role_change_moves_the_account_between_role_lists(self, client):
        from tests.support.accounts import register, staff

        admin = staff(client, Role.ADMIN)
        learner = register(client, "mover@search.test")
        client.patch(f"/admin/users/{learner['user']['id']}", {"role": "examiner"}, token=admin["access"])
        examiners = client.get("/admin/users?email=mover&role=examiner", token=admin["access"]).json["items"]
        users = client.get("/admin/users?email=mover&role=user", token=admin["access"]).json["items"]
        assert [u["email"] for u in examiners] == ["mover@search.test"] and users == []

    def test_only_admins_search(self, client):
        from tests.support.accounts import register, staff

        assert client.get("/admin/users?email=a", token=staff(client, Role.EDITOR)["access"]).status == 403
        assert client.get("/admin/users?email=a", token=register(client)["access"]).status == 403
        assert client.get("/admin/users?email=a").status == 401


class TestAdminAccountActions:
    def test_an_admin_ends_every_session_of_an_account(self, client):
        from chalicelib.audit.data import events_for_entity
        from tests.support.accounts import register, staff

        admin, learner = staff(client, Role.ADMIN), register(client)
        user_id = learner["user"]["id"]
        assert client.post(f"/admin/users/{user_id}/sessions/revoke", token=admin["access"]).status == 204
        assert client.post("/auth/refresh", {"refresh": learner["refresh"]}).status == 401
        assert client.get("/me", token=learner["access"]).status == 401  # this container forgot it at once
        assert "user.sessions_revoked" in [e.action for e in events_for_entity("user", user_id)]
        assert client.post(f"/admin/users/{user_id}/sessions/revoke", token=learner["access"]).status == 401
        assert client.post("/admin/users/nobody/sessions/revoke", token=admin["access"]).status == 404

    def test_an_admin_resets_a_locked_out_users_two_factor(self, client, outbox):
        import pyotp

        from tests.support.accounts import PASSWORD, register, staff

        admin, learner = staff(client, Role.ADMIN), register(client, "locked.out@example.com")
        secret = client.post("/me/2fa/setup", token=learner["access"]).json["secret"]
        confirmed = client.post("/me/2fa/confirm", {"code": pyotp.TOTP(secret).now()}, token=learner["access"])
        assert confirmed.status == 200
        assert "challenge" in client.post("/auth/login", {"email": "locked.out@example.com", "password": PASSWORD}).json
        editor = staff(client, Role.EDITOR)
        path = f"/admin/users/{learner['user']['id']}/2fa"
        assert client.delete(path, token=editor["access"]).status == 403
        assert client.delete(path, token=admin["access"]).status == 204
        assert client.delete(path, token=admin["access"]).status == 409  # nothing left to reset
        tokens = client.post("/auth/login", {"email": "locked.out@example.com", "password": PASSWORD}).json
        assert set(tokens) == {"access", "refresh"}
        subjects = [m["subject"] for m in outbox.messages() if m["to"] == "locked.out@example.com"]
        assert subjects[-1] == "Two-factor sign-in turned off"
