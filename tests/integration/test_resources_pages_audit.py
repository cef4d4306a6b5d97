"""Resources, pages and the audit trail, through HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from chalicelib.core.security import Role
from tests.support.accounts import register, staff
from tests.support.content import category


@pytest.fixture
def editor(client):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy")
    return editor


def resource_body(**overrides):
    body = {
        "kind": "video",
        "title": "Surgical Anatomy of the Abdomen",
        "author": "Ms A. Surgeon",
        "duration_sec": 750,
        "category": "anatomy",
        "url": "https://videos.example.com/abdomen",
        "thumbnail_url": "https://img.example.com/abdomen.jpg",
        "captions_url": "https://videos.example.com/abdomen.vtt",
        "alt_text": "Dissection of the anterior abdominal wall",
        "is_featured": True,
        "status": "published",
    }
    return {**body, **overrides}


class TestResources:
    def test_filters_and_public_access(self, client, editor):
        token = editor["access"]
        client.post("/resources", resource_body(), token=token)
        client.post(
            "/resources",
            resource_body(title="Seminar on sepsis", kind="seminar", is_featured=False, category=None),
            token=token,
        )
        client.post("/resources", resource_body(title="Draft article", kind="article", status="draft"), token=token)
        everything = client.get("/resources").json["items"]
        assert {r["title"] for r in everything} == {"Surgical Anatomy of the Abdomen", "Seminar on sepsis"}
        featured = client.get("/resources?featured=true").json["items"]
        assert [r["title"] for r in featured] == ["Surgical Anatomy of the Abdomen"]
        assert featured[0]["captions_url"].endswith(".vtt") and featured[0]["alt_text"]
        assert [r["kind"] for r in client.get("/resources?kind=seminar").json["items"]] == ["seminar"]
        assert len(client.get("/resources?category=anatomy").json["items"]) == 1
        assert client.get("/resources?status=draft").status == 403
        assert [r["title"] for r in client.get("/resources?status=draft", token=token).json["items"]] == [
            "Draft article"
        ]

    def test_newest_first_and_paginated(self, client, editor):
        with time_machine.travel(datetime.now(UTC), tick=False) as clock:
            for i in range(5):
                client.post("/resources", resource_body(title=f"Talk {i}"), token=editor["access"])
                clock.shift(60)
        first = client.get("/resources?limit=2").json
        assert [r["title"] for r in first["items"]] == ["Talk 4", "Talk 3"]
        second = client.get(f"/resources?limit=2&cursor={first['next_cursor']}").json
        assert [r["title"] for r in second["items"]] == ["Talk 2", "Talk 1"]

    def test_draft_is_hidden_until_published(self, client, editor):
        created = client.post("/resources", resource_body(status="draft"), token=editor["access"]).json
        assert client.get(f"/resources/{created['id']}").status == 404
        client.patch(f"/resources/{created['id']}", {"status": "published"}, token=editor["access"])
        shown = client.get(f"/resources/{created['id']}")
        assert shown.status == 200 and shown.json["published_at"]

    @pytest.mark.parametrize(
        "change", [{"kind": "podcast"}, {"url": "ftp://x"}, {"duration_sec": -1}, {"category": "nope"}, {"title": ""}]
    )
    def test_validation(self, client, editor, change):
        assert client.post("/resources", resource_body(**change), token=editor["access"]).status == 422

    @pytest.mark.parametrize("role", [None, Role.USER, Role.EXAMINER])
    def test_only_editors_write(self, client, editor, role):
        created = client.post("/resources", resource_body(), token=editor["access"]).json
        actor = register(client) if role == Role.USER else (staff(client, role) if role else None)
        token = actor["access"] if actor else None
        expected = 401 if actor is None else 403
        assert client.post("/resources", resource_body(), token=token).status == expected
        assert client.patch(f"/resources/{created['id']}", {"title": "x"}, token=token).status == expected
        assert client.delete(f"/resources/{created['id']}", token=token).status == expected


class TestPages:
    def test_publish_flow(self, client, editor):
        token = editor["access"]
        created = client.put(
            "/pages/privacy", {"title": "Privacy", "body": "# Privacy", "status": "draft"}, token=token
        )
        assert created.status == 201
        assert client.get("/pages/privacy").status == 404
        updated = client.put(
            "/pages/privacy", {"title": "Privacy", "body": "# Privacy", "status": "published"}, token=token
        )
        assert updated.status == 200
        public = client.get("/pages/privacy").json
        assert public["body"] == "# Privacy" and public.get("status") is None
        assert [p["slug"] for p in client.get("/pages", token=token).json] == ["privacy"]
        assert client.put("/pages/Bad Slug", {"title": "x", "body": "y"}, token=token).status == 422
        assert client.delete("/pages/privacy", token=token).status == 204
        assert client.get("/pages/privacy").status == 404

    @pytest.mark.parametrize("role", [None, Role.USER, Role.EXAMINER])
    def test_only_editors_write(self, client, editor, role):
        actor = register(client) if role == Role.USER else (staff(client, role) if role else None)
        token = actor["access"] if actor else None
        expected = 401 if actor is None else 403
        assert client.put("/pages/terms", {"title": "T", "body": "b"}, token=token).status == expected
        assert client.get("/pages", token=token).status == expected


class TestAudit:
    def test_every_staff_mutation_is_queryable(self, client, editor):
        admin = staff(client, Role.ADMIN)
        client.put("/pages/terms", {"title": "Terms", "body": "b", "status": "published"}, token=editor["access"])
        resource = client.post("/resources", resource_body(), token=editor["access"]).json
        token = admin["access"]
        by_entity = client.get(f"/admin/audit?entity=resource:{resource['id']}", token=token).json["items"]
        assert [e["action"] for e in by_entity] == ["resource.created"]
        assert by_entity[0]["after"]["title"] == resource["title"] and by_entity[0]["before"] is None
        by_actor = client.get(f"/admin/audit?actor={editor['user']['id']}", token=token).json["items"]
        assert [e["action"] for e in by_actor] == ["resource.created", "page.created", "category.created"]
        everything = client.get("/admin/audit?limit=2", token=token)
        assert everything.status == 200 and len(everything.json["items"]) == 2
        rest = client.get(f"/admin/audit?limit=2&cursor={everything.json['next_cursor']}", token=token).json
        assert [e["action"] for e in rest["items"]] == ["category.created"]
        assert rest["next_cursor"] is None

    def test_period_filter_spans_months(self, client):
        with time_machine.travel("2026-09-15 10:00:00Z", tick=False):
            editor = staff(client, Role.EDITOR)
            client.put("/pages/a", {"title": "A", "body": "b"}, token=editor["access"])
        with time_machine.travel("2026-11-02 10:00:00Z", tick=False):
            editor = staff(client, Role.EDITOR)
            client.put("/pages/b", {"title": "B", "body": "b"}, token=editor["access"])
        admin = staff(client, Role.ADMIN)
        response = client.get(
            "/admin/audit?from=2026-09-01T00:00:00Z&to=2026-10-31T00:00:00Z&limit=10", token=admin["access"]
        )
        assert [e["entity_id"] for e in response.json["items"]] == ["a"]

    @pytest.mark.parametrize(
        "query",
        [
            "entity=nonsense",
            "from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
            "from=yesterday",
            "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            "entity=page:a&actor=b",
        ],
    )
    def test_bad_queries(self, client, query):
        admin = staff(client, Role.ADMIN)
        assert client.get(f"/admin/audit?{query}", token=admin["access"]).status == 422

    @pytest.mark.parametrize("role", [Role.USER, Role.EDITOR, Role.EXAMINER])
    def test_admins_only(self, client, role):
        actor = register(client) if role == Role.USER else staff(client, role)
        assert client.get("/admin/audit", token=actor["access"]).status == 403


def test_a_page_saved_from_a_stale_version_is_refused_not_lost(client):
    from chalicelib.core.security import Role
    from tests.support.accounts import staff

    editor = staff(client, Role.EDITOR)
    token = editor["access"]
    first = client.put("/pages/privacy", {"title": "Privacy", "body": "v1", "status": "published"}, token=token)
    assert first.status in (200, 201) and first.json["version"] == 1
    second = client.put(
        "/pages/privacy", {"title": "Privacy", "body": "v2", "status": "published", "version": 1}, token=token
    )
    assert second.status == 200 and second.json["version"] == 2
    stale = client.put("/pages/privacy", {"title": "Privacy", "body": "v1 again", "version": 1}, token=token)
    assert stale.status == 409 and stale.json["error"]["details"][0]["type"] == "stale_version"
    assert client.get("/pages/privacy").json["body"] == "v2"
    assert "version" not in client.get("/pages/privacy").json  # staff only


def test_a_resource_edited_from_a_stale_version_is_refused(client):
    from chalicelib.core.security import Role
    from tests.support.accounts import staff

    editor = staff(client, Role.EDITOR)
    token = editor["access"]
    body = {"kind": "video", "title": "Hernia repair", "url": "https://v.example.com/1", "status": "published"}
    created = client.post("/resources", body, token=token).json
    assert created["version"] == 1
    assert (
        client.patch(
            f"/resources/{created['id']}", {"title": "Hernia repair, 2nd cut", "version": 1}, token=token
        ).status
        == 200
    )
    stale = client.patch(f"/resources/{created['id']}", {"title": "Old edit", "version": 1}, token=token)
    assert stale.status == 409 and stale.json["error"]["details"][0]["type"] == "stale_version"
    assert client.get(f"/resources/{created['id']}").json["title"] == "Hernia repair, 2nd cut"


def test_the_next_page_keeps_the_first_pages_window_when_time_moves_on(client, editor, monkeypatch):
    """Without `to`, the period ends "now": a cursor taken a few seconds earlier still works, and
    an event written meanwhile does not slip into the later pages."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.core import clock

    admin = staff(client, Role.ADMIN)["access"]
    for _ in range(3):
        assert client.post("/resources", resource_body(), token=editor["access"]).status == 201
    first = client.get(f"/admin/audit?actor={editor['user']['id']}&limit=2", token=admin).json
    later = datetime.now(UTC) + timedelta(seconds=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    rest = client.get(f"/admin/audit?actor={editor['user']['id']}&limit=2&cursor={first['next_cursor']}", token=admin)
    assert rest.status == 200, rest
    seen = [e["id"] for e in first["items"] + rest.json["items"]]
    assert len(seen) == len(set(seen)) == 4  # three resources and the category, each once
    everything = client.get("/admin/audit?limit=1", token=admin).json
    monkeypatch.setattr(clock, "now", lambda: later + timedelta(seconds=5))
    assert client.get(f"/admin/audit?limit=1&cursor={everything['next_cursor']}", token=admin).status == 200
    other = client.get(f"/admin/audit?limit=1&cursor={first['next_cursor']}", token=admin)
    assert other.status == 400  # a cursor belongs to its own query
