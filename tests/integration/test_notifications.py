"""The inbox and staff announcements, through HTTP: what a learner sees, when, and only their own."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chalicelib.audit.data import events_for_entity
from chalicelib.core.cache import reset_all_caches
from chalicelib.core.jobs import run_job
from chalicelib.core.security import Role
from chalicelib.notifications import service
from tests.support.accounts import PASSWORD, register, staff


@pytest.fixture
def admin(client):
    return staff(client, Role.ADMIN)


def announce(client, admin, **overrides):
    body = {"title": "Mock exam week", "body": "Three **new** papers.", "audience": {"all": True}, **overrides}
    response = client.post("/admin/notifications", body, token=admin["access"])
    assert response.status == 201, response
    reset_all_caches()  # another container would learn of it within its cache's 15 s
    return response.json


def relogin(client, account):
    tokens = client.post("/auth/login", {"email": account["user"]["email"], "password": PASSWORD}).json
    return {**account, **tokens}


def inbox(client, token, path="/notifications", **query):
    params = "&".join(f"{k}={v}" for k, v in query.items())
    response = client.get(f"{path}?{params}" if params else path, token=token)
    assert response.status == 200, response
    return response.json


class TestTheInbox:
    def test_personal_notifications_newest_first_with_the_unread_count_on_me(self, client):
        learner = register(client)
        user_id, token = learner["user"]["id"], learner["access"]
        first = service.notify(user_id, "exam", "Exam submitted", "Your time ran out; it was submitted.")
        second = service.notify(user_id, "account", "Extra time", "You have 25% extra time.", link="/exams")
        page = inbox(client, token)
        assert [n["id"] for n in page["items"]] == [second, first]
        assert page["unread_count"] == 2
        assert page["items"][0] == {
            "id": second,
            "title": "Extra time",
            "body": "You have 25% extra time.",
            "kind": "account",
            "is_read": False,
            "created_at": page["items"][0]["created_at"],
            "link": "/exams",
        }
        assert client.get("/me", token=token).json["unread_notifications"] == 2
        assert inbox(client, token, "/me/notifications") == page  # the spec's other name, the same data

    def test_read_one_then_all(self, client):
        learner = register(client)
        user_id, token = learner["user"]["id"], learner["access"]
        ids = [service.notify(user_id, "exam", f"Note {n}", "Body") for n in range(3)]
        read = client.post(f"/notifications/{ids[0]}/read", token=token)
        assert read.status == 200 and read.json["is_read"] is True
        assert client.post(f"/me/notifications/{ids[0]}/read", token=token).status == 200  # again: no change
        assert inbox(client, token)["unread_count"] == 2
        assert client.post("/me/notifications/read-all", token=token).json == {"unread_count": 0}
        page = inbox(client, token)
        assert page["unread_count"] == 0 and all(n["is_read"] for n in page["items"])
        later = service.notify(user_id, "exam", "Later", "Body")
        page = inbox(client, token)
        assert page["unread_count"] == 1 and [n["id"] for n in page["items"] if not n["is_read"]] == [later]

    def test_pages_follow_the_cursor(self, client):
        learner = register(client)
        ids = [service.notify(learner["user"]["id"], "exam", f"Note {n}", "Body") for n in range(5)]
        first = inbox(client, learner["access"], limit=2)
        second = inbox(client, learner["access"], limit=2, cursor=first["next_cursor"])
        third = inbox(client, learner["access"], limit=2, cursor=second["next_cursor"])
        seen = [n["id"] for page in (first, second, third) for n in page["items"]]
        assert seen == list(reversed(ids)) and third["next_cursor"] is None

    def test_nobody_reaches_anothers_notification(self, client):
        owner, other = register(client), register(client)
        notification_id = service.notify(owner["user"]["id"], "exam", "Mine", "Body")
        assert client.post(f"/notifications/{notification_id}/read", token=other["access"]).status == 404
        assert inbox(client, other["access"])["items"] == []
        assert client.post("/notifications/nope/read", token=owner["access"]).status == 404
        assert client.get("/notifications").status == 401


class TestAnnouncements:
    def test_everyone_registered_when_sent_gets_it_later_accounts_do_not(self, client, admin):
        before = register(client)
        sent = announce(client, admin)
        after = register(client)
        assert [n["title"] for n in inbox(client, before["access"])["items"]] == ["Mock exam week"]
        assert client.get("/me", token=before["access"]).json["unread_notifications"] == 1
        assert inbox(client, after["access"])["items"] == []
        assert sent["status"] == "sent" and sent["sent_at"]

    def test_a_standing_notice_reaches_later_accounts_too(self, client, admin):
        announce(client, admin, title="Terms updated", include_future=True)
        later = register(client)
        assert [n["title"] for n in inbox(client, later["access"])["items"]] == ["Terms updated"]
        assert client.get("/me", token=later["access"]).json["unread_notifications"] == 1

    def test_every_standing_notice_reaches_a_later_account_and_only_its_audience(self, client, admin):
        """More standing notices than one merge takes (25), and one for editors only: a new learner
        gets every one meant for them, each once, and not the editors' one."""
        for n in range(30):
            announce(client, admin, title=f"Standing {n:02d}", include_future=True)
        announce(client, admin, title="Editors only", audience={"role": "editor"}, include_future=True)
        later = register(client)
        assert client.get("/me", token=later["access"]).json["unread_notifications"] == 30
        titles = [n["title"] for n in inbox(client, later["access"], limit=100)["items"]]
        assert sorted(titles) == [f"Standing {n:02d}" for n in range(30)]
        editor = staff(client, Role.EDITOR)
        assert "Editors only" in [n["title"] for n in inbox(client, editor["access"], limit=100)["items"]]

    def test_a_role_or_a_list_reaches_only_them(self, client, admin):
        learner, named, editor = register(client), register(client), staff(client, Role.EDITOR)
        announce(client, admin, title="For editors", audience={"role": "editor"})
        announce(client, admin, title="For one", audience={"user_ids": [named["user"]["id"]]})
        assert [n["title"] for n in inbox(client, editor["access"])["items"]] == ["For editors"]
        assert [n["title"] for n in inbox(client, named["access"])["items"]] == ["For one"]
        assert inbox(client, learner["access"])["items"] == []

    def test_delivery_and_read_counts(self, client, admin):
        readers = [register(client) for _ in range(3)]
        sent = announce(client, admin)
        for reader in readers:
            inbox(client, reader["access"])
        first = inbox(client, readers[0]["access"])["items"][0]
        client.post(f"/notifications/{first['id']}/read", token=readers[0]["access"])
        client.post("/notifications/read-all", token=readers[1]["access"])
        listed = client.get("/admin/notifications", token=admin["access"]).json["items"]
        mine = next(b for b in listed if b["id"] == sent["id"])
        assert (mine["delivered"], mine["read"]) == (3, 2)

    def test_concurrent_first_looks_deliver_once(self, client, admin):
        learner = register(client)
        announce(client, admin)
        results = []

        def look() -> None:
            results.append(client.get("/me", token=learner["access"]).json["unread_notifications"])

        threads = [threading.Thread(target=look) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [1, 1, 1, 1]
        assert len(inbox(client, learner["access"])["items"]) == 1

    def test_scheduled_edited_withdrawn_and_sent_by_the_job(self, client, admin):
        learner = register(client)
        now = datetime.now(UTC)
        with time_machine.travel(now, tick=False) as traveller:
            later = announce(client, admin, title="Soon", send_at=(now + timedelta(hours=2)).isoformat())
            dropped = announce(client, admin, title="Dropped", send_at=(now + timedelta(hours=1)).isoformat())
            assert later["status"] == "scheduled" and inbox(client, learner["access"])["items"] == []
            edited = client.patch(
                f"/admin/notifications/{later['id']}", {"title": "Soon, edited"}, token=admin["access"]
            )
            assert edited.status == 200 and edited.json["title"] == "Soon, edited"
            assert client.delete(f"/admin/notifications/{dropped['id']}", token=admin["access"]).status == 204
            traveller.shift(timedelta(hours=3))
            assert run_job("send_scheduled_notifications") == {"sent": 1}
            assert run_job("send_scheduled_notifications") == {"sent": 0}  # once
            reset_all_caches()
            learner, admin = relogin(client, learner), relogin(client, admin)  # hours later: fresh tokens
            assert [n["title"] for n in inbox(client, learner["access"])["items"]] == ["Soon, edited"]
            refused = client.patch(f"/admin/notifications/{later['id']}", {"title": "Too late"}, token=admin["access"])
            assert refused.status == 409
            assert client.delete(f"/admin/notifications/{later['id']}", token=admin["access"]).status == 409
        actions = [e.action for e in events_for_entity("notification", later["id"])]
        assert {"notification.created", "notification.updated", "notification.sent"} <= set(actions)
        assert "notification.withdrawn" in [e.action for e in events_for_entity("notification", dropped["id"])]

    @pytest.mark.parametrize(
        ("audience", "field"),
        [
            ({}, "audience"),
            ({"all": True, "role": "editor"}, "audience"),
            ({"all": False}, "audience.all"),
            ({"inactive_days": 0}, "audience.inactive_days"),
            ({"role": "wizard"}, "audience.role"),
        ],
    )
    def test_bad_audiences_are_422(self, client, admin, audience, field):
        body = {"title": "T", "body": "B", "audience": audience}
        response = client.post("/admin/notifications", body, token=admin["access"])
        assert response.status == 422, response
        assert any(d["field"].startswith(field) for d in response.json["error"]["details"]), response.json

    def test_send_at_needs_a_zone_and_standing_needs_a_broad_audience(self, client, admin):
        naive = {"title": "T", "body": "B", "audience": {"all": True}, "send_at": "2030-01-01T09:00:00"}
        assert client.post("/admin/notifications", naive, token=admin["access"]).status == 422
        listed = {"title": "T", "body": "B", "audience": {"user_ids": ["x"]}, "include_future": True}
        assert client.post("/admin/notifications", listed, token=admin["access"]).status == 422

    def test_learners_are_refused_and_editors_send_content_news_only(self, client):
        learner, editor = register(client), staff(client, Role.EDITOR)
        body = {"title": "T", "body": "B", "audience": {"all": True}}
        for method, path in (("POST", "/admin/notifications"), ("GET", "/admin/notifications")):
            assert (
                client.request(method, path, body if method == "POST" else None, token=learner["access"]).status == 403
            )
        assert client.patch("/admin/notifications/x", {"title": "T"}, token=learner["access"]).status == 403
        assert client.delete("/admin/notifications/x", token=learner["access"]).status == 403
        assert client.post("/admin/notifications", body, token=editor["access"]).status == 403
        news = client.post("/admin/notifications", {**body, "kind": "content_news"}, token=editor["access"])
        assert news.status == 201
