"""The question bank: no answer reaches a learner, edits are validated and versioned, roles hold."""

from __future__ import annotations

import json

import pytest

from chalicelib.audit.data import events_for_entity
from chalicelib.core.security import Role
from tests.support.accounts import register, staff
from tests.support.content import category, question, question_body

SECRET_FIELDS = ("is_correct", "explanation", "reference")


@pytest.fixture
def editor(client):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy", ("thorax", "abdomen"))
    category(client, editor, "physiology", ("renal",))
    return editor


@pytest.fixture
def learner(client):
    return register(client)


def leaks(payload) -> list[str]:
    text = json.dumps(payload)
    return [field for field in SECRET_FIELDS if f'"{field}"' in text]


class TestLearnerViews:
    def test_no_route_gives_a_learner_the_answers(self, client, editor, learner):
        created = question(client, editor, "anatomy", "thorax")
        token = learner["access"]
        responses = [
            client.get(f"/questions/{created['id']}", token=token),
            client.get("/questions", token=token),
            client.get("/questions?category=anatomy", token=token),
            client.get("/questions?category=anatomy&subcategory=thorax&difficulty=3", token=token),
        ]
        for response in responses:
            assert response.status == 200
            assert leaks(response.json) == []
        assert client.get(f"/questions/{created['id']}/versions", token=token).status == 403
        assert client.get("/questions?status=draft", token=token).status == 403
        assert client.get("/questions?status=published", token=token).status == 200

    def test_learner_view_shape(self, client, editor, learner):
        created = question(client, editor, "anatomy", "thorax", difficulty=4)
        view = client.get(f"/questions/{created['id']}", token=learner["access"]).json
        shape = {"id", "stem", "type", "options", "media", "category", "subcategory", "difficulty"}
        # the learner's own review card and everyone's statistics: none before answering
        assert set(view) == shape | {"review", "statistics"}
        assert view["review"] is None and view["statistics"] is None
        assert [o["id"] for o in view["options"]] == [o["id"] for o in created["options"]]
        assert all(set(option) == {"id", "text"} for option in view["options"])

    def test_drafts_and_archived_are_invisible_to_learners(self, client, editor, learner):
        draft = question(client, editor, "anatomy", status="draft")
        archived = question(client, editor, "anatomy", status="archived")
        published = question(client, editor, "anatomy")
        for hidden in (draft, archived):
            assert client.get(f"/questions/{hidden['id']}", token=learner["access"]).status == 404
        listed = client.get("/questions?category=anatomy", token=learner["access"]).json["items"]
        assert [q["id"] for q in listed] == [published["id"]]

    def test_anonymous_cannot_read_questions(self, client, editor):
        created = question(client, editor, "anatomy")
        assert client.get(f"/questions/{created['id']}").status == 401
        assert client.get("/questions").status == 401


class TestListing:
    def test_filters_and_pagination(self, client, editor, learner):
        for difficulty in (1, 2, 3, 4, 5):
            question(client, editor, "anatomy", "thorax", difficulty=difficulty)
        question(client, editor, "anatomy", "abdomen", difficulty=2)
        question(client, editor, "physiology", "renal", kind="multi")
        token = learner["access"]
        assert len(client.get("/questions?category=anatomy&subcategory=thorax", token=token).json["items"]) == 5
        twos = client.get("/questions?category=anatomy&difficulty=2", token=token).json["items"]
        assert {q["subcategory"] for q in twos} == {"thorax", "abdomen"}
        assert [q["type"] for q in client.get("/questions?type=multi", token=token).json["items"]] == ["multi"]
        seen, cursor = [], None
        while True:
            path = "/questions?limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(path, token=token).json
            seen += [q["id"] for q in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 7

    def test_forged_or_foreign_cursor_is_400(self, client, editor, learner):
        for _ in range(3):
            question(client, editor, "anatomy")
        page = client.get("/questions?limit=1", token=learner["access"]).json
        foreign = client.get(
            f"/questions?limit=1&category=anatomy&cursor={page['next_cursor']}", token=learner["access"]
        )
        assert foreign.status == 400
        assert client.get("/questions?cursor=abc.def", token=learner["access"]).status == 400

    @pytest.mark.parametrize("query", ["difficulty=9", "limit=0", "limit=101", "type=essay", "subcategory=thorax"])
    def test_bad_filters_are_422(self, client, learner, query):
        assert client.get(f"/questions?{query}", token=learner["access"]).status == 422

    def test_staff_filter_by_status_and_see_answers(self, client, editor):
        question(client, editor, "anatomy", status="draft")
        drafts = client.get("/questions?status=draft", token=editor["access"]).json["items"]
        assert len(drafts) == 1 and drafts[0]["status"] == "draft"
        assert "is_correct" in drafts[0]["options"][0] and "explanation" in drafts[0]


class TestValidation:
    @pytest.mark.parametrize(
        ("change", "needle"),
        [
            ({"options": [{"text": "only one", "is_correct": True}]}, "options"),
            ({"options": [{"text": f"o{i}", "is_correct": i == 0} for i in range(11)]}, "options"),
            ({"options": [{"text": "a", "is_correct": True}, {"text": "b", "is_correct": True}]}, "exactly one"),
            ({"options": [{"text": "a", "is_correct": False}, {"text": "b", "is_correct": False}]}, "exactly one"),
            (
                {"type": "multi", "options": [{"text": "a", "is_correct": False}, {"text": "b", "is_correct": False}]},
                "at least one",
            ),
            ({"options": [{"text": "same", "is_correct": True}, {"text": "Same", "is_correct": False}]}, "unique"),
            ({"difficulty": 0}, "difficulty"),
            ({"difficulty": 6}, "difficulty"),
            ({"media": [{"url": "https://cdn.example.com/x.png", "kind": "hologram"}]}, "media"),
            ({"media": [{"url": "not a url", "kind": "image"}]}, "media"),
            ({"stem": "short"}, "stem"),
            ({"status": "live"}, "status"),
        ],
    )
    def test_invalid_questions_are_422(self, client, editor, change, needle):
        body = {**question_body("anatomy", "thorax"), **change}
        response = client.post("/questions", body, token=editor["access"])
        assert response.status == 422, response
        assert needle in json.dumps(response.json["error"]["details"])

    def test_taxonomy_must_exist_and_match(self, client, editor):
        unknown = client.post("/questions", question_body("nope"), token=editor["access"])
        assert unknown.status == 422 and unknown.json["error"]["details"][0]["field"] == "category"
        mismatch = client.post("/questions", question_body("physiology", "thorax"), token=editor["access"])
        assert mismatch.status == 422 and mismatch.json["error"]["details"][0]["field"] == "subcategory"

    def test_duplicate_stems_are_refused(self, client, editor):
        question(client, editor, "anatomy", stem="Which nerve supplies the deltoid muscle?")
        again = client.post(
            "/questions",
            question_body("physiology", stem="  which NERVE supplies the deltoid muscle "),
            token=editor["access"],
        )
        assert again.status == 409

    def test_media_round_trip(self, client, editor, learner):
        media = [{"url": "https://cdn.example.com/ct.png", "kind": "image", "alt_text": "Axial CT", "caption": "Fig 1"}]
        created = client.post("/questions", {**question_body("anatomy"), "media": media}, token=editor["access"])
        view = client.get(f"/questions/{created.json['id']}", token=learner["access"]).json
        assert view["media"] == media


class TestEditing:
    def test_edit_bumps_version_and_keeps_history(self, client, editor):
        created = question(client, editor, "anatomy", "thorax")
        qid = created["id"]
        patched = client.patch(f"/questions/{qid}", {"explanation": "Better explanation."}, token=editor["access"])
        assert patched.status == 200 and patched.json["version"] == 2
        versions = client.get(f"/questions/{qid}/versions", token=editor["access"]).json
        assert [v["version"] for v in versions] == [2, 1]
        assert versions[1]["question"]["explanation"] == created["explanation"]
        assert versions[0]["question"]["explanation"] == "Better explanation."
        audit = [e.action for e in events_for_entity("question", qid)]
        assert sorted(audit) == ["question.created", "question.updated"]

    def test_option_ids_keep_their_meaning(self, client, editor):
        created = question(client, editor, "anatomy")
        options = created["options"]
        kept = [{"id": o["id"], "text": o["text"], "is_correct": o["is_correct"]} for o in options[:3]]
        body = {
            **question_body("anatomy"),
            "stem": created["stem"],
            "options": [*kept, {"text": "A brand new option", "is_correct": False}],
        }
        replaced = client.put(f"/questions/{created['id']}", body, token=editor["access"])
        assert replaced.status == 200
        new_ids = [o["id"] for o in replaced.json["options"]]
        assert new_ids[:3] == [o["id"] for o in options[:3]]
        assert new_ids[3] not in {o["id"] for o in options}
        forged = {**body, "options": [*kept, {"id": "o_deadbeef00", "text": "Forged", "is_correct": False}]}
        assert client.put(f"/questions/{created['id']}", forged, token=editor["access"]).status == 422

    def test_publishing_updates_learner_counts(self, client, editor):
        created = question(client, editor, "anatomy", "thorax", status="draft")
        assert client.get("/categories/anatomy").json["question_count"] == 0
        client.patch(f"/questions/{created['id']}", {"status": "published"}, token=editor["access"])
        detail = client.get("/categories/anatomy").json
        assert detail["question_count"] == 1
        assert {s["slug"]: s["question_count"] for s in detail["subcategories"]}["thorax"] == 1
        client.patch(
            f"/questions/{created['id']}", {"category": "physiology", "subcategory": "renal"}, token=editor["access"]
        )
        assert client.get("/categories/anatomy").json["question_count"] == 0
        assert client.get("/categories/physiology").json["question_count"] == 1

    def test_delete_archives_anything_ever_published(self, client, editor, learner):
        published = question(client, editor, "anatomy")
        response = client.delete(f"/questions/{published['id']}", token=editor["access"])
        assert response.status == 200 and response.json["status"] == "archived"
        assert client.get(f"/questions/{published['id']}", token=editor["access"]).status == 200
        assert client.get(f"/questions/{published['id']}", token=learner["access"]).status == 404
        draft = question(client, editor, "anatomy", status="draft")
        assert client.delete(f"/questions/{draft['id']}", token=editor["access"]).status == 204
        assert client.get(f"/questions/{draft['id']}", token=editor["access"]).status == 404

    def test_stale_edit_loses_instead_of_overwriting(self, client, editor, monkeypatch):
        from chalicelib.questions import data as question_data

        created = question(client, editor, "anatomy")
        stale = question_data.get_question(created["id"])
        client.patch(f"/questions/{created['id']}", {"difficulty": 5}, token=editor["access"])
        monkeypatch.setattr(question_data, "get_question", lambda qid: stale)
        response = client.patch(f"/questions/{created['id']}", {"explanation": "late"}, token=editor["access"])
        assert response.status == 409
        monkeypatch.undo()
        assert client.get(f"/questions/{created['id']}", token=editor["access"]).json["difficulty"] == 5


@pytest.mark.parametrize("role", [None, Role.USER, Role.EXAMINER])
def test_only_editors_and_admins_edit_questions(client, editor, role):
    created = question(client, editor, "anatomy")
    actor = register(client) if role == Role.USER else (staff(client, role) if role else None)
    token = actor["access"] if actor else None
    expected = 401 if actor is None else 403
    calls = [
        ("POST", "/questions", question_body("anatomy")),
        ("PUT", f"/questions/{created['id']}", question_body("anatomy")),
        ("PATCH", f"/questions/{created['id']}", {"difficulty": 1}),
        ("DELETE", f"/questions/{created['id']}", None),
        ("GET", f"/questions/{created['id']}/versions", None),
    ]
    for method, path, body in calls:
        assert client.request(method, path, body, token=token).status == expected, (method, path)
    admin = staff(client, Role.ADMIN)
    assert client.patch(f"/questions/{created['id']}", {"difficulty": 1}, token=admin["access"]).status == 200


def test_an_edit_based_on_a_stale_version_is_refused_not_lost(client, editor):
    """Two editors open version 1; the second save would silently undo the first one's change."""
    token = editor["access"]
    created = question(client, editor, "anatomy")
    first = client.patch(f"/questions/{created['id']}", {"difficulty": 5, "version": 1}, token=token)
    assert first.status == 200 and first.json["version"] == 2
    stale = {**question_body("anatomy", stem="A different stem written on top of version one?"), "version": 1}
    refused = client.put(f"/questions/{created['id']}", stale, token=token)
    assert refused.status == 409, refused
    assert refused.json["error"]["details"][0] == {"field": "version", "message": "now 2", "type": "stale_version"}
    current = client.get(f"/questions/{created['id']}", token=token).json
    assert current["difficulty"] == 5 and current["version"] == 2  # nothing written
    based_on_current = client.put(f"/questions/{created['id']}", {**stale, "version": 2}, token=token)
    assert based_on_current.status == 200 and based_on_current.json["version"] == 3
