"""What starting a practice session and an exam reads, at 60, 600 and 3,000 published questions
per category: the draw reads id lists and then only the drawn questions, so the cost stays flat."""

from __future__ import annotations

from benchmarks.harness import Api, Measured, create_categories, signed_in

CATEGORIES = ("anatomy", "physiology", "pathology")
TARGETS = {"practice": 20.0, "exam": 110.0}
STEM = (
    "A 54-year-old man presents with a painless swelling; which structure is most likely involved "
    "given the clinical findings described in this realistic, several-sentence surgical vignette?"
)


def _grow_bank(per_category: int, have: int) -> None:
    """Published questions written directly (as an import would), with their id lists."""
    from chalicelib.core.db import TableItem, transaction
    from chalicelib.questions import data
    from chalicelib.questions.schemas import QuestionIn
    from chalicelib.questions.service import add_node_updates, build_question, counter_deltas, version_item

    questions = []
    for slug in CATEGORIES:
        for n in range(have, per_category):
            request = QuestionIn(
                stem=f"{STEM} ({slug} {n})",
                category=slug,
                difficulty=1 + n % 5,
                options=[
                    {"text": f"The correct structure {n}", "is_correct": True},
                    {"text": f"A nearby structure {n}", "is_correct": False},
                    {"text": f"A distant structure {n}", "is_correct": False},
                    {"text": f"An unrelated structure {n}", "is_correct": False},
                    {"text": f"None of these {n}", "is_correct": False},
                ],
                explanation="Because of the anatomy described, in two or three sentences of teaching text.",
                reference="Bailey & Love, 28th edition",
                status="published",
            )
            questions.append(build_question("bench", request))
    with TableItem.batch_write() as batch:
        for question in questions:
            question.version = 1
            batch.save(question)
            batch.save(version_item(question, 1))
    data.apply_id_list_changes(data.id_list_changes([(None, data.listing_of(q)) for q in questions]))
    with transaction() as tx:  # the taxonomy's counters, as an import keeps them
        add_node_updates(tx, counter_deltas([(None, (q.category, q.subcategory, q.status)) for q in questions]))


def _row(label: str, size: int, measured: Measured, target: float) -> str:
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(measured.operations.items()))
    verdict = "ok" if measured.rcu <= target else "OVER"
    return f"| {label} | {size} | {measured.status} | {ops} | {measured.rcu:g} | <= {target:g} ({verdict}) |"


def draw_costs(api: Api, sizes: tuple[int, ...] = (60, 600, 3000)) -> list[str]:
    from chalicelib.accounts.service import provision_user
    from chalicelib.core.security import Role

    staff = signed_in(api, "draw-admin@example.com", "admin")
    create_categories(api, staff, CATEGORIES)
    _grow_bank(sizes[0], 0)
    template = api.call(
        "POST",
        "/exams/templates",
        {
            "name": "Paper 1 (draw)",
            "paper": "Paper 1",
            "duration_minutes": 180,
            "total_questions": 180,
            "blueprint": dict.fromkeys(CATEGORIES, 60),
        },
        staff,
    ).body
    if "id" not in template:
        raise RuntimeError(f"template not created: {template}")
    lines = [
        "| request | questions per category | status | DynamoDB operations | RCU | target |",
        "|---|---|---|---|---|---|",
    ]
    have = sizes[0]
    for size in sizes:
        _grow_bank(size, have)
        have = size
        provision_user(f"draw-{size}@example.com", "Bench-Password-2026", "Learner", Role.USER)
        credentials = {"email": f"draw-{size}@example.com", "password": "Bench-Password-2026"}
        login = api.call("POST", "/auth/login", credentials)
        token = login.body["access"]
        body = {"categories": ["anatomy"], "question_count": 20}
        practice = api.call("POST", "/practice/sessions", body, token)
        lines.append(_row("POST /practice/sessions (1 category, 20)", size, practice, TARGETS["practice"]))
        exam = api.call("POST", "/exams/sessions", {"template_id": template["id"]}, token)
        lines.append(_row("POST /exams/sessions (180 = 3 x 60)", size, exam, TARGETS["exam"]))
    return lines
