"""The seed content a developer gets from `make dev`: complete, valid, and loaded once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from seeds.loader import seed_questions

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_question_bank_is_big_enough_for_the_mocks():
    questions = seed_questions()
    taxonomy = json.loads((SEEDS / "taxonomy.json").read_text())
    paper = {c["slug"]: c["paper"] for c in taxonomy}
    per_category = Counter(q["category"] for q in questions)
    assert len(questions) >= 300
    assert sum(q["type"] == "multi" for q in questions) >= 30
    assert sum(n for c, n in per_category.items() if paper[c] == 1) >= 180
    assert sum(n for c, n in per_category.items() if paper[c] == 2) >= 120
    assert set(per_category) == set(paper)  # every category has questions
    assert 24 <= len(taxonomy) <= 26
    assert all(q["explanation"] and q["reference"] for q in questions)


def _is_scenario(question: dict[str, Any]) -> bool:
    """MRCS Part A form: a clinical stem of a few sentences ending in a lead-in question, five
    options with one best answer, and an explanation long enough to cover the wrong options."""
    options = question["options"]
    return (
        len(question["stem"]) >= 100
        and question["stem"].rstrip().endswith("?")
        and question["stem"].count(".") >= 1
        and len(options) == 5
        and sum(o["is_correct"] for o in options) == 1
        and len(question["explanation"]) >= 300
    )


def test_at_least_150_scenario_items_across_the_syllabus_and_every_difficulty():
    scenarios = [q for q in seed_questions() if _is_scenario(q)]
    assert len(scenarios) >= 150
    assert len({q["category"] for q in scenarios}) == 25  # every category of the syllabus
    assert {q["difficulty"] for q in scenarios} == {1, 2, 3, 4, 5}
    assert all(any(ch.isdigit() for ch in q["reference"]) for q in scenarios)  # an edition, year or chapter


def test_known_ambiguous_items_stay_unambiguous():
    for question in seed_questions():
        texts = {o["text"] for o in question["options"]}
        assert not {"Gas (nitrogen) embolism", "Air embolism"} <= texts, question["stem"]
        assert len(texts) == len(question["options"]), question["stem"]  # no option offered twice
    magnum = next(q for q in seed_questions() if q["stem"] == "Which structure passes through the foramen magnum?")
    wrong = [o["text"] for o in magnum["options"] if not o["is_correct"]]
    assert not any("accessory" in text.lower() for text in wrong)  # its spinal roots do pass through it


def test_seed_files_are_valid_import_documents():
    from chalicelib.questions.schemas import QuestionIn

    for path in sorted((SEEDS / "questions").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert set(document) == {"questions"}, path.name
        for row in document["questions"]:
            QuestionIn.model_validate(row)
            assert row["category"] == path.stem, path.name


def test_everything_loads_through_the_api_once(client):
    from seeds.loader import load_all

    first = load_all()
    second = load_all()
    assert first["questions"]["created"] == len(seed_questions())
    assert all(counts["created"] == 0 for counts in second.values()), second
    categories = client.get("/categories").json
    assert len(categories) == 25
    assert sum(c["question_count"] for c in categories) == len(seed_questions())
    login = client.post("/auth/login", {"email": "learner@openmrcs.local", "password": "ChangeMe-123!"}).json
    questions = client.get("/questions?category=anatomy-embryology&limit=100", token=login["access"]).json["items"]
    in_anatomy = sum(q["category"] == "anatomy-embryology" for q in seed_questions())
    assert len(questions) == in_anatomy and all("is_correct" not in o for q in questions for o in q["options"])
    featured = client.get("/resources?featured=true&limit=50").json["items"]
    assert len(featured) >= 5 and all(r["alt_text"] for r in featured)
    assert len(client.get("/resources?limit=50").json["items"]) >= 12
    assert client.get("/pages/privacy").status == client.get("/pages/terms").status == 200
    templates = {t["name"]: t for t in client.get("/exams/templates").json}
    assert templates["MRCS Part A Mock, Paper 1"]["total_questions"] == 180
    assert templates["MRCS Part A Mock, Paper 1"]["duration_minutes"] == 180
    assert templates["MRCS Part A Mock, Paper 2"]["total_questions"] == 120
    assert templates["Quick Mock"]["total_questions"] == 20
    paper_1 = client.post(
        "/exams/sessions", {"template_id": templates["MRCS Part A Mock, Paper 1"]["id"]}, token=login["access"]
    )
    assert paper_1.status == 201 and len(paper_1.json["questions"]) == 180
    assert len({q["id"] for q in paper_1.json["questions"]}) == 180
