"""A small published bank and helpers to practise through the API."""

from __future__ import annotations

from typing import Any

from chalicelib.core.security import Role
from tests.support.accounts import staff
from tests.support.content import category, question


def small_bank(client: Any, per_category: int = 6) -> dict[str, list[dict[str, Any]]]:
    """Three categories (anatomy with two subcategories), `per_category` published questions each."""
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy", ("thorax", "abdomen"), order=0)
    category(client, editor, "physiology", ("renal",), order=1)
    category(client, editor, "pathology", (), order=2)
    bank: dict[str, list[dict[str, Any]]] = {"anatomy": [], "physiology": [], "pathology": []}
    for i in range(per_category):
        bank["anatomy"].append(question(client, editor, "anatomy", "thorax" if i % 2 else "abdomen"))
        bank["physiology"].append(question(client, editor, "physiology", "renal", kind="multi" if i == 0 else "single"))
        bank["pathology"].append(question(client, editor, "pathology"))
    return bank


def answers_by_id(bank: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for questions in bank.values() for q in questions}


def right(q: dict[str, Any]) -> list[str]:
    return [o["id"] for o in q["options"] if o["is_correct"]]


def wrong(q: dict[str, Any]) -> list[str]:
    return [next(o["id"] for o in q["options"] if not o["is_correct"])]


def start(client: Any, token: str, **body: Any) -> dict[str, Any]:
    response = client.post("/practice/sessions", {"question_count": 5, **body}, token=token)
    assert response.status == 201, response
    return dict(response.json)


def answer(client: Any, token: str, session_id: str, question_id: str, options: list[str], seconds: int = 30) -> Any:
    body = {"question_id": question_id, "selected_option_ids": options, "time_spent_sec": seconds}
    return client.post(f"/practice/sessions/{session_id}/attempts", body, token=token)
