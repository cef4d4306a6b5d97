"""Bulk import: valid rows land whole, bad rows are reported, duplicates skipped, nothing half-written."""

from __future__ import annotations

import pytest

from chalicelib.core import tasks
from chalicelib.core.security import Role
from tests.support.accounts import register, staff
from tests.support.content import category, question, question_body


@pytest.fixture
def editor(client):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy", ("thorax",))
    return editor


def run_import(client, editor, body=None, *, raw=None, headers=None, query=""):
    started = client.post(f"/questions/import{query}", body, raw=raw, headers=headers, token=editor["access"])
    assert started.status == 202, started
    assert started.json["status"] == "queued"
    assert tasks.run_pending() == 1
    report = client.get(f"/questions/import/{started.json['id']}", token=editor["access"])
    assert report.status == 200
    return report.json


def published_count(client) -> int:
    return int(client.get("/categories/anatomy").json["question_count"])


def test_mixed_good_and_bad_rows(client, editor):
    existing = question(client, editor, "anatomy", stem="An existing stem about the thoracic duct course?")
    good = [question_body("anatomy", "thorax") for _ in range(3)]
    rows = [
        good[0],
        {**question_body("anatomy"), "difficulty": 9, "options": [{"text": "one", "is_correct": True}]},
        good[1],
        {**question_body("nowhere")},
        {**question_body("anatomy"), "stem": existing["stem"].upper()},
        {**good[0], "explanation": "same stem as row 1"},
        "not an object",
        good[2],
    ]
    report = run_import(client, editor, {"questions": rows})
    assert report["status"] == "completed"
    assert (report["total"], report["created"], report["skipped"], report["failed"]) == (8, 3, 2, 3)
    by_row = {r["row"]: r for r in report["rows"]}
    assert set(by_row) == {2, 4, 5, 6, 7}
    assert {e["field"] for e in by_row[2]["errors"]} == {"difficulty", "options"}
    assert by_row[4]["errors"][0]["field"] == "category"
    assert by_row[5]["outcome"] == "skipped" and "existing" in by_row[5]["errors"][0]["message"]
    assert by_row[6]["outcome"] == "skipped" and "row 1" in by_row[6]["errors"][0]["message"]
    assert by_row[7]["outcome"] == "failed"
    assert published_count(client) == 1 + 3
    stems = {
        q["stem"] for q in client.get("/questions?category=anatomy&limit=100", token=editor["access"]).json["items"]
    }
    assert {row["stem"] for row in good} <= stems


def test_dry_run_writes_nothing(client, editor):
    rows = [question_body("anatomy") for _ in range(4)]
    report = run_import(client, editor, {"questions": rows, "dry_run": True})
    assert report["dry_run"] is True and report["created"] == 0 and report["failed"] == 0
    assert published_count(client) == 0
    real = run_import(client, editor, {"questions": rows})
    assert real["created"] == 4 and published_count(client) == 4


def test_csv_import(client, editor):
    header = "stem,type,category,subcategory,difficulty,option_1,option_2,option_3,correct,explanation,reference,status"
    lines = [
        header,
        "Which vertebral level is the sternal angle at?,single,anatomy,thorax,2,T4/5,T2,T8,1,T4/5.,Gray's,published",
        "Which of these drain to the thoracic duct?,multi,anatomy,thorax,3,Left arm,Right arm,Left leg,1;3,Both.,"
        "Gray's,published",
        "Too few options here for a question?,single,anatomy,,3,Only one,,,1,,,published",
    ]
    report = run_import(client, editor, raw="\n".join(lines).encode(), headers={"Content-Type": "text/csv"})
    assert report["source"] == "csv"
    assert (report["created"], report["failed"]) == (2, 1)
    assert report["rows"][0]["row"] == 3
    multi = client.get("/questions?type=multi", token=editor["access"]).json["items"][0]
    assert [o["is_correct"] for o in multi["options"]] == [True, False, True]


def test_csv_dry_run_via_query_and_missing_columns(client, editor):
    csv = b"stem,category,option_1,option_2,correct\nWhich level is the carina at in adults?,anatomy,T4/5,T8,1\n"
    report = run_import(client, editor, raw=csv, headers={"Content-Type": "text/csv"}, query="?dry_run=true")
    assert (report["dry_run"], report["created"], report["failed"]) == (True, 0, 0)
    assert (
        published_count(client) == 0
        and client.get("/questions?status=draft", token=editor["access"]).json["items"] == []
    )
    bad = client.post(
        "/questions/import",
        raw=b"stem,category\nx,anatomy\n",
        headers={"Content-Type": "text/csv"},
        token=editor["access"],
    )
    assert bad.status == 422
    assert {d["field"] for d in bad.json["error"]["details"]} >= {"option_1", "correct"}


def test_bad_uploads_are_refused_in_the_request(client, editor):
    token = editor["access"]
    assert client.post("/questions/import", raw=b"{oops", token=token).status == 400
    assert client.post("/questions/import", {"questions": []}, token=token).status == 422
    assert client.post("/questions/import", {"rows": []}, token=token).status == 422
    assert client.post("/questions/import", {"questions": [{}] * 5001}, token=token).status == 422
    assert client.get("/questions/import/nope", token=token).status == 404


def test_two_thousand_rows(client, editor):
    rows = [
        question_body("anatomy", "thorax", stem=f"Large import question number {i} about the mediastinum?")
        for i in range(int(__import__("os").environ.get("IMPORT_ROWS", "2000")))
    ]
    rows[10]["difficulty"] = 0
    report = run_import(client, editor, {"questions": rows})
    assert report["status"] == "completed"
    assert (report["created"], report["failed"], report["skipped"]) == (1999, 1, 0)
    assert published_count(client) == 1999


def test_a_crashed_worker_resumes_without_duplicates(client, editor, monkeypatch):
    from chalicelib.questions import imports

    category(client, editor, "physiology", ("renal",))
    rows = [question_body("anatomy") for _ in range(100)] + [question_body("physiology", "renal") for _ in range(50)]
    started = client.post("/questions/import", {"questions": rows}, token=editor["access"]).json
    monkeypatch.setattr(imports, "NODES_PER_PART", 1)  # one counter per part: a crash can split them
    original = imports.add_node_updates  # type: ignore[attr-defined]  # imports' own name for it
    calls = {"n": 0}

    def crash_on_second_part(tx, deltas):
        calls["n"] += 1
        if calls["n"] == 2:  # rows written, first part counted, the second part's counters not
            raise RuntimeError("worker died")
        original(tx, deltas)

    monkeypatch.setattr(imports, "add_node_updates", crash_on_second_part)
    with pytest.raises(RuntimeError):
        tasks.run_pending()
    monkeypatch.setattr(imports, "add_node_updates", original)
    imports.run_import({"job_id": started["id"]})  # Lambda's retry of the async invocation
    report = client.get(f"/questions/import/{started['id']}", token=editor["access"]).json
    assert (report["status"], report["created"]) == ("completed", 150)
    assert published_count(client) == 100
    physiology = client.get("/categories/physiology").json
    assert physiology["question_count"] == 50 and physiology["subcategories"][0]["question_count"] == 50
    ids, cursor = [], ""
    while True:
        page = client.get(f"/questions?limit=100&cursor={cursor}", token=editor["access"]).json
        ids += [q["id"] for q in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(ids) == len(set(ids)) == 150


@pytest.mark.parametrize("role", [None, Role.USER, Role.EXAMINER])
def test_only_editors_import(client, editor, role):
    actor = register(client) if role == Role.USER else (staff(client, role) if role else None)
    token = actor["access"] if actor else None
    expected = 401 if actor is None else 403
    assert client.post("/questions/import", {"questions": [question_body("anatomy")]}, token=token).status == expected
    started = client.post("/questions/import", {"questions": [question_body("anatomy")]}, token=editor["access"])
    assert client.get(f"/questions/import/{started.json['id']}", token=token).status == expected
