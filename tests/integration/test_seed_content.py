"""The seed content a developer gets from `make dev`: complete, valid, and loaded once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from seeds.question_bank import build_questions

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_question_bank_is_big_enough_for_the_mocks():
    questions = build_questions()
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


def test_everything_loads_through_the_api_once(client):
    from seeds.loader import load_all

    first = load_all()
    second = load_all()
    assert first["questions"]["created"] == len(build_questions())
    assert all(counts["created"] == 0 for counts in second.values()), second
    categories = client.get("/categories").json
    assert len(categories) == 25
    assert sum(c["question_count"] for c in categories) == len(build_questions())
    login = client.post("/auth/login", {"email": "learner@openmrcs.local", "password": "ChangeMe-123!"}).json
    questions = client.get("/questions?category=anatomy-embryology&limit=100", token=login["access"]).json["items"]
    assert len(questions) == 50 and all("is_correct" not in o for q in questions for o in q["options"])
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
