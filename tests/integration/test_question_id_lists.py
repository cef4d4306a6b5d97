"""Practice and exams draw from compact lists of published question ids, kept exact by the
question transactions: after every kind of edit, each list equals the published questions."""

from __future__ import annotations

import pytest

from chalicelib.core import tasks
from chalicelib.core.security import Role
from chalicelib.questions import data as questions
from local_stack.meter import metering
from tests.support.accounts import register, staff
from tests.support.content import category, question, question_body

SLUGS = ("anatomy", "pathology")


@pytest.fixture
def editor(client):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy", ("thorax", "abdomen"))
    category(client, editor, "pathology", (), order=1)
    return editor


def listed(client, editor, query: str) -> list[str]:
    """What the staff question list shows as published (read from the question items' index)."""
    page = client.get(f"/questions?status=published&limit=100&{query}", token=editor["access"]).json
    assert page["next_cursor"] is None
    return sorted(q["id"] for q in page["items"])


def assert_lists_exact(client, editor) -> None:
    for slug in SLUGS:
        assert questions.published_ids(slug) == listed(client, editor, f"category={slug}"), slug
        for sub in ("thorax", "abdomen"):
            expected = listed(client, editor, f"category={slug}&subcategory={sub}")
            assert questions.published_ids(slug, sub) == expected, (slug, sub)


def test_every_edit_keeps_the_lists_exact(client, editor):
    token = editor["access"]
    published = question(client, editor, "anatomy", "thorax")
    draft = question(client, editor, "anatomy", status="draft")
    assert_lists_exact(client, editor)
    assert questions.published_ids("anatomy") == [published["id"]]

    steps = [
        (draft["id"], {"status": "published"}),  # published: listed
        (published["id"], {"difficulty": 5}),  # another difficulty's list
        (published["id"], {"subcategory": "abdomen"}),  # another subcategory's list
        (draft["id"], {"category": "pathology"}),  # another category's lists
        (published["id"], {"status": "draft"}),  # unpublished: unlisted
        (published["id"], {"status": "published", "stem": "A changed stem about the abdomen?"}),
    ]
    for question_id, change in steps:
        response = client.patch(f"/questions/{question_id}", change, token=token)
        assert response.status == 200, response
        assert_lists_exact(client, editor)

    archived = client.delete(f"/questions/{draft['id']}", token=token)  # once published: archived
    assert archived.status == 200 and archived.json["status"] == "archived"
    assert_lists_exact(client, editor)
    never = question(client, editor, "pathology", status="draft")
    assert client.delete(f"/questions/{never['id']}", token=token).status == 204  # never published: deleted
    assert_lists_exact(client, editor)
    assert questions.published_ids("pathology") == []


def test_an_import_lists_its_published_rows(client, editor):
    rows = [question_body("anatomy", "thorax") for _ in range(3)] + [question_body("pathology", status="draft")]
    started = client.post("/questions/import", {"questions": rows}, token=editor["access"])
    assert started.status == 202, started
    assert tasks.run_pending() == 1
    assert len(questions.published_ids("anatomy", "thorax")) == 3
    assert_lists_exact(client, editor)


def test_a_practice_session_reads_the_lists_and_only_the_drawn_questions(client, editor):
    for _ in range(12):
        question(client, editor, "anatomy", "thorax")
    learner = register(client)
    with metering() as meter:
        created = client.post(
            "/practice/sessions", {"categories": ["anatomy"], "question_count": 5}, token=learner["access"]
        )
    assert created.status == 201, created
    assert len(created.json["questions"]) == 5
    read_items = sum(call.items for call in meter.calls if call.operation == "BatchGetItem")
    assert read_items == 5  # the five drawn questions, not the twelve
    index_queries = [c for c in meter.calls if c.operation == "Query" and c.items >= 12]
    assert index_queries == []  # no query returned the category's questions
