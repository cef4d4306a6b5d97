"""Categories and subcategories: public reads with progress, staff edits with the rules."""

from __future__ import annotations

import pytest

from chalicelib.core.security import Role
from tests.support.accounts import register, staff
from tests.support.content import category, question


@pytest.fixture
def editor(client):
    return staff(client, Role.EDITOR)


def test_list_is_ordered_with_counts_and_zero_progress(client, editor):
    category(client, editor, "physiology", order=2)
    category(client, editor, "anatomy-embryology", ("thorax", "abdomen"), order=1)
    question(client, editor, "anatomy-embryology", "thorax")
    question(client, editor, "anatomy-embryology", "thorax", status="draft")
    listed = client.get("/categories")
    assert listed.status == 200
    assert [c["slug"] for c in listed.json] == ["anatomy-embryology", "physiology"]
    anatomy = listed.json[0]
    assert anatomy["question_count"] == 1  # published only
    assert anatomy["progress"] == {"answered": 0, "correct": 0, "score_percent": 0.0}
    assert "status" not in anatomy  # staff-only fields are absent for learners, not null
    signed_in = client.get("/categories", token=register(client)["access"])
    assert signed_in.json[0]["progress"]["answered"] == 0


def test_detail_with_subcategories(client, editor):
    category(client, editor, "anatomy", ("thorax", "abdomen"))
    category(client, editor, "anatomy-embryology", ("embryology",))
    question(client, editor, "anatomy", "abdomen")
    detail = client.get("/categories/anatomy").json
    assert [s["slug"] for s in detail["subcategories"]] == ["abdomen", "thorax"]
    assert {s["slug"]: s["question_count"] for s in detail["subcategories"]} == {"abdomen": 1, "thorax": 0}
    assert client.get("/categories/nope").status == 404


def test_list_is_one_query_whatever_the_size(client, no_scan):
    from chalicelib.taxonomy.data import TAXONOMY_PK, Category, Subcategory, category_sk, subcategory_sk

    with Category.batch_write() as batch:  # a big taxonomy, written directly: this test is about reads
        for i in range(40):
            slug = f"cat-{i:02d}"
            batch.save(Category(PK=TAXONOMY_PK, SK=category_sk(slug), slug=slug, name=f"Category {i:02d}"))
            for sub in ("sub-a", "sub-b", "sub-c"):
                batch.save(Subcategory(PK=TAXONOMY_PK, SK=subcategory_sk(slug, sub), slug=sub, name=sub, category=slug))
    learner = register(client)
    no_scan.reset()
    assert len(client.get("/categories", token=learner["access"]).json) == 40
    assert no_scan.operations == {"Query": 2}  # the taxonomy, and my aggregates


def test_slug_and_name_are_unique(client, editor):
    category(client, editor, "anatomy")
    same_slug = client.post("/categories", {"slug": "anatomy", "name": "Other"}, token=editor["access"])
    assert same_slug.status == 409
    same_name = client.post("/categories", {"slug": "anatomy-2", "name": "ANATOMY"}, token=editor["access"])
    assert same_name.status == 409
    bad_slug = client.post("/categories", {"slug": "Not A Slug", "name": "X"}, token=editor["access"])
    assert bad_slug.status == 422


def test_rename_reorder_retire(client, editor):
    category(client, editor, "anatomy", order=5)
    category(client, editor, "physiology", order=1)
    renamed = client.patch("/categories/anatomy", {"name": "Anatomy & Embryology", "order": 0}, token=editor["access"])
    assert renamed.status == 200
    assert [c["name"] for c in client.get("/categories").json] == ["Anatomy & Embryology", "Physiology"]
    assert client.patch("/categories/physiology", {"status": "retired"}, token=editor["access"]).status == 200
    assert [c["slug"] for c in client.get("/categories").json] == ["anatomy"]
    assert client.get("/categories/physiology").status == 404
    staff_view = client.get("/categories", token=editor["access"]).json
    assert {c["slug"]: c["status"] for c in staff_view} == {"anatomy": "active", "physiology": "retired"}


def test_a_category_with_questions_can_only_be_retired(client, editor):
    category(client, editor, "anatomy", ("thorax",))
    category(client, editor, "empty", ("nothing",))
    draft = question(client, editor, "anatomy", "thorax", status="draft")
    assert client.delete("/categories/anatomy", token=editor["access"]).status == 409
    assert client.delete("/categories/anatomy/subcategories/thorax", token=editor["access"]).status == 409
    assert client.delete("/categories/empty", token=editor["access"]).status == 204
    assert client.get("/categories/empty", token=editor["access"]).status == 404
    # Once its only (draft) question is deleted, the category can go.
    assert client.delete(f"/questions/{draft['id']}", token=editor["access"]).status == 204
    assert client.delete("/categories/anatomy", token=editor["access"]).status == 204


@pytest.mark.parametrize("role", [None, Role.USER, Role.EXAMINER])
def test_only_editors_and_admins_edit_the_taxonomy(client, editor, role):
    category(client, editor, "anatomy", ("thorax",))
    actor = register(client) if role == Role.USER else (staff(client, role) if role else None)
    token = actor["access"] if actor else None
    expected = 401 if actor is None else 403
    calls = [
        ("POST", "/categories", {"slug": "x-cat", "name": "X"}),
        ("PATCH", "/categories/anatomy", {"name": "Y"}),
        ("DELETE", "/categories/anatomy", None),
        ("POST", "/categories/anatomy/subcategories", {"slug": "x", "name": "X"}),
        ("PATCH", "/categories/anatomy/subcategories/thorax", {"name": "Y"}),
        ("DELETE", "/categories/anatomy/subcategories/thorax", None),
    ]
    for method, path, body in calls:
        assert client.request(method, path, body, token=token).status == expected, (method, path)
    admin = staff(client, Role.ADMIN)
    assert client.patch("/categories/anatomy", {"name": "By Admin"}, token=admin["access"]).status == 200
