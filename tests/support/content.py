"""Helpers that build taxonomy and questions through the staff API."""

from __future__ import annotations

import itertools
from typing import Any

_counter = itertools.count()


def category(client: Any, editor: dict[str, Any], slug: str, subs: tuple[str, ...] = (), order: int = 0) -> None:
    body = {"slug": slug, "name": slug.replace("-", " ").title(), "order": order}
    response = client.post("/categories", body, token=editor["access"])
    assert response.status == 201, response
    for sub in subs:
        sub_body = {"slug": sub, "name": sub.replace("-", " ").title()}
        created = client.post(f"/categories/{slug}/subcategories", sub_body, token=editor["access"])
        assert created.status == 201, created


def question_body(
    category: str,
    subcategory: str | None = None,
    *,
    kind: str = "single",
    status: str = "published",
    difficulty: int = 3,
    stem: str | None = None,
) -> dict[str, Any]:
    n = next(_counter)
    options = [
        {"text": f"Option A{n}", "is_correct": True},
        {"text": f"Option B{n}", "is_correct": kind == "multi"},
        {"text": f"Option C{n}", "is_correct": False},
        {"text": f"Option D{n}", "is_correct": False},
    ]
    return {
        "stem": stem or f"Which structure is described in clinical vignette number {n}?",
        "type": kind,
        "category": category,
        "subcategory": subcategory,
        "difficulty": difficulty,
        "options": options,
        "explanation": f"Because of fact {n}.",
        "reference": "Gray's Anatomy, 42nd ed.",
        "status": status,
    }


def question(
    client: Any, editor: dict[str, Any], category: str, subcategory: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    response = client.post("/questions", question_body(category, subcategory, **kwargs), token=editor["access"])
    assert response.status == 201, response
    return dict(response.json)
