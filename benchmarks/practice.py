"""Cost per endpoint of Practice Mode, the dashboard and analytics at 10, 1,000 and 10,000 attempts,
and the stream handler's writes for a batch of 100 attempts."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from benchmarks.harness import Api, Measured

CATEGORIES = ("anatomy", "physiology", "pathology")


PROSE = (
    "patient presents with acute abdominal pain fever tachycardia following laparoscopic repair of an inguinal "
    "hernia the surgeon notes erythema swelling tenderness over the wound blood tests show raised white cell count "
    "and C-reactive protein imaging reveals a collection adjacent to the mesh which nerve artery vein muscle "
    "ligament structure lies posterior anterior medial lateral superior inferior to the femoral canal in a "
    "58-year-old man with a history of smoking diabetes hypertension who underwent elective surgery three days "
    "ago the most appropriate next step in management is drainage antibiotics observation re-operation because "
    "the lymphatic drainage of this region passes through the superficial inguinal nodes before reaching the "
    "external iliac chain which explains the pattern of spread described in the vignette"
)
WORDS = PROSE.split()


def _prose(rng: random.Random, words: int) -> str:
    """Text with the length and variety of a real question (so compression is not flattered)."""
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def _bank(api: Api, admin_token: str, per_category: int = 40, *, realistic: bool = False) -> list[dict[str, Any]]:
    """Published questions; `realistic` ones have an MRCS-length stem (~90 words), five options and a
    ~130-word explanation, for the measures whose cost depends on the questions' size."""
    questions = []
    rng = random.Random(11)
    for order, slug in enumerate(CATEGORIES):
        api.call("POST", "/categories", {"slug": slug, "name": slug.title(), "order": order}, admin_token)
        for n in range(per_category):
            body = {
                "stem": f"Benchmark question {slug} number {n} about a surgical fact?",
                "category": slug,
                "options": [
                    {"text": f"Right {n}", "is_correct": True},
                    {"text": f"Wrong {n}", "is_correct": False},
                    {"text": f"Other {n}", "is_correct": False},
                ],
                "status": "published",
                "explanation": "Because.",
                "reference": "Bailey & Love",
            }
            if realistic:
                body["stem"] = f"{_prose(rng, 90)} ({slug} {n})?"
                body["options"] = [{"text": f"{_prose(rng, 6)} {n}-{k}", "is_correct": k == 0} for k in range(5)]
                body["explanation"] = _prose(rng, 130) + "."
            questions.append(api.call("POST", "/questions", body, admin_token).body)
    return questions


def _seed_history(user_id: str, attempts: int, questions: list[dict[str, Any]]) -> None:
    """Write a learner's history directly: raw answers and sessions plus the aggregates the pipeline
    would have built (this measures reads, not the pipeline's throughput)."""
    from chalicelib.analytics import data as analytics
    from chalicelib.analytics import snapshot
    from chalicelib.core import clock
    from chalicelib.core.db import TableItem
    from chalicelib.practice import data as practice
    from chalicelib.review import data as review_data
    from chalicelib.review import rules as review_rules

    rng = random.Random(attempts)
    today = clock.now().date()
    aggs: dict[str, list[int]] = {}
    days: dict[str, list[int]] = {}
    with TableItem.batch_write() as batch:
        for index in range(attempts):
            question = questions[index % len(questions)]
            session_id = f"bench-{user_id}-{index // 20}"
            good = rng.random() < 0.7
            day = (today - timedelta(days=index % 365)).isoformat()
            batch.save(
                practice.new_answer(
                    session_id,
                    question["id"],
                    user_id=user_id,
                    question_version=1,
                    category=question["category"],
                    subcategory=None,
                    selected_option_ids=["x"],
                    correct_option_ids=["x"],
                    is_correct=good,
                    time_spent_sec=45,
                    answered_at=f"{day}T10:00:00Z",
                    local_date=day,
                )
            )
            if index % 20 == 0:
                batch.save(
                    practice.new_session(
                        user_id,
                        session_id,
                        pool="all",
                        requested=20,
                        question_ids=[q["id"] for q in questions[:20]],
                        include_explanations=True,
                        seed=1,
                        status="completed",
                        answered=20,
                        correct=14,
                        started_at=f"{day}T09:00:00Z",
                        completed_at=f"{day}T10:00:00Z",
                    )
                )
            agg = aggs.setdefault(question["category"], [0, 0])
            agg[0], agg[1] = agg[0] + 1, agg[1] + int(good)
            stat = days.setdefault(day, [0, 0])
            stat[0], stat[1] = stat[0] + 1, stat[1] + int(good)
        for category, (answered, correct) in aggs.items():
            aggregate = analytics.aggregate_ref(user_id, category)
            aggregate.category, aggregate.answered, aggregate.correct = category, answered, correct
            batch.save(aggregate)
        for day, (answered, correct) in days.items():
            day_item = analytics.day_ref(user_id, day)
            day_item.date, day_item.answered, day_item.correct = day, answered, correct
            day_item.attempt_time_sec = 45 * answered
            batch.save(day_item)
        for question in questions[: min(attempts, len(questions))]:
            card = review_data.card_ref(user_id, question["id"])
            card.question_id, card.last_correct = question["id"], True
            card.reviews = {review_rules.review_of(f"bench:{question['id']}", clock.now(), 3, True).encode()}
            batch.save(card)
    snapshot.rebuild(user_id)


def _row(label: str, size: int, measured: Measured) -> str:
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(measured.operations.items())) or "none"
    return f"| {label} | {size} | {measured.status} | {ops} | {measured.rcu:g} | {measured.wcu:g} |"


def endpoint_costs(api: Api, sizes: tuple[int, ...] = (10, 1000, 10000)) -> list[str]:
    from chalicelib.accounts.service import provision_user
    from chalicelib.core.cache import reset_all_caches
    from chalicelib.core.security import Role

    provision_user("bench-admin@example.com", "Bench-Password-2026", "Admin", Role.ADMIN)
    admin = api.call("POST", "/auth/login", {"email": "bench-admin@example.com", "password": "Bench-Password-2026"})
    questions = _bank(api, admin.body["access"])
    lines = [
        "| endpoint | attempts in history | status | DynamoDB operations | RCU | WCU |",
        "|---|---|---|---|---|---|",
    ]
    for size in sizes:
        email = f"learner-{size}@example.com"
        registered = api.call(
            "POST", "/auth/register", {"email": email, "password": "Bench-Password-2026", "display_name": "Bench"}
        )
        token, user_id = registered.body["access"], registered.body["user"]["id"]
        _seed_history(user_id, size, questions)
        reset_all_caches()
        # A warm Lambda: featured resources, the taxonomy and this learner's time zone are cached.
        cold = api.call("GET", "/analytics/heatmap", token=token)
        lines.append(_row("GET /analytics/heatmap (cold container)", size, cold))
        for warm_up in ("/dashboard", "/analytics/categories"):
            api.call("GET", warm_up, token=token)
        lines.append(_row("GET /dashboard", size, api.call("GET", "/dashboard", token=token)))
        for path in (
            "/analytics/overview",
            "/analytics/study-time?range=week",
            "/analytics/study-time?range=month",
            "/analytics/categories",
            "/analytics/heatmap",
            "/analytics/trends",
            "/recommendations/topics",
            "/practice/sessions?limit=20",
        ):
            lines.append(_row(f"GET {path}", size, api.call("GET", path, token=token)))
        created = api.call("POST", "/practice/sessions", {"categories": ["anatomy"], "question_count": 20}, token)
        lines.append(_row("POST /practice/sessions", size, created))
        session = created.body
        by_id = {q["id"]: q for q in questions}
        qid = session["question_ids"][0]
        right = [o["id"] for o in by_id[qid]["options"] if o["is_correct"]]
        attempt = api.call(
            "POST",
            f"/practice/sessions/{session['id']}/attempts",
            {"question_id": qid, "selected_option_ids": right, "time_spent_sec": 30},
            token,
        )
        lines.append(_row("POST /practice/sessions/{id}/attempts", size, attempt))
        lines.append(
            _row(
                "POST /practice/sessions/{id}/complete",
                size,
                api.call("POST", f"/practice/sessions/{session['id']}/complete", token=token),
            )
        )
    return lines


def exam_costs(api: Api) -> list[str]:
    """Start, autosave (a batch of 90 and a single answer), resume and submit a 180-question exam."""
    from app import app
    from benchmarks.stream import exam_submission_cost
    from chalicelib.accounts.service import provision_user
    from chalicelib.core.config import get_settings
    from chalicelib.core.security import Role
    from local_stack.streams import StreamPoller

    provision_user("bench-examiner@example.com", "Bench-Password-2026", "Examiner", Role.ADMIN)
    login = api.call("POST", "/auth/login", {"email": "bench-examiner@example.com", "password": "Bench-Password-2026"})
    staff_token = login.body["access"]
    questions = _bank(api, staff_token, per_category=60, realistic=True)
    template = api.call(
        "POST",
        "/exams/templates",
        {
            "name": "Paper 1 (benchmark)",
            "paper": "Paper 1",
            "duration_minutes": 180,
            "total_questions": 180,
            "blueprint": dict.fromkeys(CATEGORIES, 60),
            "shuffle_options": True,
        },
        staff_token,
    ).body
    learner = api.call(
        "POST",
        "/auth/register",
        {"email": "exam-learner@example.com", "password": "Bench-Password-2026", "display_name": "Candidate"},
    ).body
    token = learner["access"]
    lines = [
        "180 questions of MRCS length (~90-word stem, five options, ~130-word explanation).",
        "",
        "| step (180 questions) | status | DynamoDB operations | RCU | WCU | target |",
        "|---|---|---|---|---|---|",
    ]
    poller = StreamPoller(get_settings().table_name, app.handler_map["table_stream"])
    poller.read()
    started = api.call("POST", "/exams/sessions", {"template_id": template["id"]}, token)
    lines.append(_exam_row("POST /exams/sessions (start)", started))
    session = started.body
    by_id = {q["id"]: q for q in questions}
    batch = [
        {
            "question_id": q["id"],
            "selected_option_ids": [next(o["id"] for o in by_id[q["id"]]["options"] if o["is_correct"])],
        }
        for q in session["questions"][:90]
    ]
    lines.append(
        _exam_row(
            "PUT /exams/sessions/{id}/answers (90 answers)",
            api.call("PUT", f"/exams/sessions/{session['id']}/answers", {"answers": batch}, token),
        )
    )
    single = [{"question_id": session["questions"][90]["id"], "selected_option_ids": [], "flagged": True}]
    lines.append(
        _exam_row(
            "PUT /exams/sessions/{id}/answers (1 answer)",
            api.call("PUT", f"/exams/sessions/{session['id']}/answers", {"answers": single}, token),
        )
    )
    lines.append(
        _exam_row("GET /exams/sessions/{id} (resume)", api.call("GET", f"/exams/sessions/{session['id']}", token=token))
    )
    lines.append(
        _exam_row(
            "POST /exams/sessions/{id}/submit", api.call("POST", f"/exams/sessions/{session['id']}/submit", token=token)
        )
    )
    lines.append(
        _exam_row(
            "GET /exams/sessions/{id}/review", api.call("GET", f"/exams/sessions/{session['id']}/review", token=token)
        )
    )
    streamed = exam_submission_cost(poller.read(), 90)
    after = api.call("GET", f"/exams/sessions/{session['id']}/review", token=token)
    lines.append(
        _exam_row(
            "GET /exams/sessions/{id}/review (after the pipeline: its 90 answered questions hold statistics)", after
        )
    )
    return [*lines, "", "### stream handler, the submitted exam", "", *streamed]


EXAM_TARGETS = {  # issue 11: (RCU, WCU) at most, None where the issue sets none
    "POST /exams/sessions (start)": (110.0, None),
    "PUT /exams/sessions/{id}/answers (90 answers)": (None, 20.0),
    "GET /exams/sessions/{id} (resume)": (16.0, None),
    "POST /exams/sessions/{id}/submit": (20.0, 30.0),
    "GET /exams/sessions/{id}/review": (20.0, None),
}


def _exam_row(label: str, measured: Measured) -> str:
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(measured.operations.items())) or "none"
    rcu_max, wcu_max = EXAM_TARGETS.get(label, (None, None))
    checks = [
        f"{unit} <= {limit:g} ({'ok' if value <= limit else 'OVER'})"
        for unit, limit, value in (("RCU", rcu_max, measured.rcu), ("WCU", wcu_max, measured.wcu))
        if limit is not None
    ]
    target = ", ".join(checks) or "-"
    return f"| {label} | {measured.status} | {ops} | {measured.rcu:g} | {measured.wcu:g} | {target} |"
