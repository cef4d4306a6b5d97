"""What a question search costs at 100, 1,000 and 10,000 questions, and what keeping the index costs
per question. The reads are bounded by the postings walked per request (at most 400), not by the
bank: a word found in every question costs the same at 1,000 and at 10,000."""

from __future__ import annotations

import random
from typing import Any

from benchmarks.harness import Api, Measured, create_categories, signed_in

CATEGORIES = tuple(f"topic-{n}" for n in range(10))
# Words with a known spread over the bank: in every question, in half, in a tenth, in one in 500.
SPREAD = {"fascia": 1, "ligament": 2, "ganglion": 10, "chylothorax": 500}
SEARCHES = (
    ("q=fascia", "a word in every question"),
    ("q=ganglion", "a word in 1 of 10"),
    ("q=chylothorax", "a word in 1 of 500"),
    ("q=fascia+ligament", "two words (1 and 1 of 2)"),
    ("q=ganglion&category=topic-3", "1 of 10, filtered to 1 of 10 categories"),
    ("q=chylothorax&status=draft", "no hit"),
)
MRCS_STEM = (
    "A 63-year-old man presents to the emergency department with sudden severe epigastric pain radiating "
    "to the back, vomiting and a history of heavy alcohol intake; on examination he is tachycardic, "
    "febrile and tender in the upper abdomen with guarding, and his serum amylase is raised threefold. "
    "A contrast-enhanced CT on day three shows peripancreatic fluid without necrosis. Which is the most "
    "appropriate next step in his management according to current guidance on acute pancreatitis?"
)


def _words_for(n: int) -> list[str]:
    return [word for word, every in SPREAD.items() if n % every == 0]


def _grow(have: int, size: int) -> None:
    """Questions written directly, with the postings of the tracked words (the only ones the
    searches walk; the others would only add partitions no search here reads)."""
    from chalicelib.core.db import TableItem
    from chalicelib.questions import data
    from chalicelib.questions.schemas import QuestionIn
    from chalicelib.questions.service import build_question

    with TableItem.batch_write() as batch:
        for n in range(have, size):
            words = _words_for(n)
            request = QuestionIn(
                stem=f"Which structure is involved in case {n}: {' '.join(words)}?",
                category=CATEGORIES[n % len(CATEGORIES)],
                options=[{"text": f"Option {k} of {n}", "is_correct": k == 0} for k in range(5)],
                status="published",
            )
            question = build_question("bench", request)
            question.version = 1
            batch.save(question)
            for word in words:
                batch.save(data.posting(word, question.question_id, data.facets_of(question)))


def _row(label: str, size: int, measured: Measured) -> str:
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(measured.operations.items()))
    items = len(measured.body.get("items", [])) if isinstance(measured.body, dict) else 0
    more = "yes" if isinstance(measured.body, dict) and measured.body.get("next_cursor") else "no"
    return f"| {label} | {size} | {measured.status} | {items} | {more} | {ops} | {measured.rcu:g} |"


def _index_costs(api: Api, staff: str) -> list[str]:
    """Keeping the index for one realistic question: created, one word edited, published."""
    from chalicelib.questions.indexer import sync_question
    from local_stack.meter import metering

    rng = random.Random(7)
    body: dict[str, Any] = {
        "stem": MRCS_STEM,
        "category": CATEGORIES[0],
        "options": [{"text": t, "is_correct": i == 0} for i, t in enumerate(_options(rng))],
        "status": "draft",
    }
    created = api.call("POST", "/questions", body, staff).body
    rows = []
    steps = (
        ("created (draft)", None),
        ("one word of the stem changed", {"stem": MRCS_STEM.replace("threefold", "fourfold")}),
        ("published (facets change: every posting rewritten)", {"status": "published"}),
    )
    for label, patch in steps:
        if patch:
            api.call("PATCH", f"/questions/{created['id']}", patch, staff)
        with metering() as meter:
            sync_question(created["id"])
        ops = ", ".join(f"{op} x{n}" for op, n in sorted(meter.operations.items()))
        rows.append(f"| index: {label} | {ops} | {meter.rcu:g} RCU, {meter.wcu:g} WCU |")
    return rows


def _options(rng: random.Random) -> list[str]:
    choices = [
        "Intravenous fluids, analgesia and early enteral nutrition",
        "Urgent laparotomy and necrosectomy",
        "Endoscopic retrograde cholangiopancreatography within 24 hours",
        "Prophylactic broad-spectrum antibiotics",
        "Total parenteral nutrition and nil by mouth",
    ]
    rng.shuffle(choices)
    return choices


def search_costs(api: Api, sizes: tuple[int, ...] = (100, 1000, 10_000)) -> list[str]:
    staff = signed_in(api, "search-editor@example.com", "editor")
    create_categories(api, staff, CATEGORIES)
    lines = [
        "| GET /questions?... (limit 20) | questions | status | hits | more | DynamoDB operations | RCU |",
        "|---|---|---|---|---|---|---|",
    ]
    have = 0
    for size in sizes:
        _grow(have, size)
        have = size
        for query, label in SEARCHES:
            measured = api.call("GET", f"/questions?{query}&limit=20", None, staff)
            lines.append(_row(f"`{query}` ({label})", size, measured))
    lines += ["", "| keeping the index, one MRCS-length question | DynamoDB operations | cost |", "|---|---|---|"]
    lines += _index_costs(api, staff)
    return lines
