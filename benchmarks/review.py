"""What the review queue, the forecast and a seen question cost for a learner with 10, 1,000 and
10,000 cards: one Query of the due index (bounded by the daily allowance), one GetItem, one
BatchGetItem, whatever the number of cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benchmarks.harness import Api, Measured, signed_in


def _grow(user_id: str, have: int, size: int) -> None:
    """Cards written directly (as the pipeline leaves them), each with the reviews of two answers
    and due over about 60 days, with their due-index entries."""
    from chalicelib.core.db import TableItem
    from chalicelib.review import data, rules

    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    days: dict[str, set[str]] = {}
    with TableItem.batch_write() as batch:
        for n in range(have, size):
            question_id = f"{n:032x}"
            answered = [start + timedelta(days=n % 60), start + timedelta(days=n % 60 + 3)]
            reviews = {
                rules.review_of(f"bench:{n}:{k}", at, rules.GOOD, True).encode() for k, at in enumerate(answered)
            }
            card = rules.schedule(rules.decode_all(reviews), None)
            assert card is not None
            due = card.due.strftime("%Y-%m-%dT%H:%M:%SZ")
            entry = data.DueEntry(due, question_id, card.stability, int(card.last_review.timestamp() * 1000)).encode()
            item = data.card_ref(user_id, question_id)
            item.question_id, item.reviews, item.due, item.due_entry = question_id, reviews, due, entry
            item.due_day, item.state, item.stability = card.due.date().isoformat(), card.state, card.stability
            item.difficulty, item.scheduled_reviews = card.difficulty, card.reviews
            item.last_review = card.last_review.strftime("%Y-%m-%dT%H:%M:%SZ")
            batch.save(item)
            days.setdefault(card.due.date().isoformat(), set()).add(entry)
    for day, entries in days.items():
        data.add_due_entries(user_id, day, entries)


def _row(label: str, size: int, measured: Measured) -> str:
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(measured.operations.items()))
    items = len(measured.body.get("items", [])) if isinstance(measured.body, dict) and "items" in measured.body else "-"
    return f"| {label} | {size} | {measured.status} | {items} | {ops} | {measured.rcu:g} |"


def review_costs(api: Api, sizes: tuple[int, ...] = (10, 1000, 10_000)) -> list[str]:
    from chalicelib.core.security import decode_token

    token = signed_in(api, "review-learner@example.com", "user")
    user_id = str(decode_token(token, expected_type="access")["sub"])
    lines = ["| request | cards | status | items | DynamoDB operations | RCU |", "|---|---|---|---|---|---|"]
    have = 0
    for size in sizes:
        _grow(user_id, have, size)
        have = size
        lines.append(_row("GET /review/queue (at most 100 due)", size, api.call("GET", "/review/queue", None, token)))
        lines.append(_row("GET /review/forecast", size, api.call("GET", "/review/forecast", None, token)))
    return lines
