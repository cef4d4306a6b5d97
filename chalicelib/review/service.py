"""Spaced review: keeping each learner's cards scheduled (called by the answer pipeline with the
reviews a batch brought), the due queue and the forecast."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.accounts.service import learner_timezone
from chalicelib.core import clock
from chalicelib.core.timeutil import local_date, parse
from chalicelib.review import data, rules
from chalicelib.review.data import DueEntry, ReviewCard
from chalicelib.review.rules import Review
from chalicelib.review.schemas import CardView, DueCard, ForecastDay, ForecastOut, QueueOut

ATTEMPTS = 5
DONE_DAYS_KEPT_SEC = 3 * 86400  # a day's done counts matter that day only


def cards_of(user_id: str, question_ids: set[str]) -> dict[str, ReviewCard]:
    """The learner's cards of these questions (consistent): the pipeline reads them once, before its
    transaction (which questions are new to the learner), and hands them to `reschedule`."""
    return data.get_cards(user_id, question_ids) if question_ids else {}


def reschedule(
    user_id: str,
    new_reviews: dict[str, set[str]],
    timezone: str,
    retention: float | None,
    cards_read: dict[str, ReviewCard] | None = None,
) -> int:
    """Add these reviews (encoded, per question) to their cards and move each changed card in the
    due index. Idempotent and order-free: a card is a function of the set of its reviews, and the
    index moves are set ADD/DELETE made before the cards are saved, so a crash in between is redone
    by the next run. Index and day-count writes are grouped per day item: a batch's cards cost one
    write per day touched, not one per card. Returns how many cards moved."""
    pending = dict(new_reviews)
    added: dict[str, set[tuple[str, str]]] = {}  # question -> (day, entry) this call added
    moved = 0
    for attempt in range(ATTEMPTS):
        cards = cards_read if attempt == 0 and cards_read is not None else data.get_cards(user_id, pending)
        plans = [p for qid in sorted(pending) if (p := _plan(qid, cards.get(qid), pending[qid], timezone, retention))]
        _move_in_index(user_id, plans, timezone)
        for plan in plans:
            added.setdefault(plan.question_id, set()).add((plan.day, plan.entry))
        lost = {
            plan.question_id
            for plan in plans
            if not data.save_card(user_id, plan.question_id, plan.reviews, plan.fields, plan.read_count)
        }
        moved += len(plans) - len(lost)
        if not lost:
            _drop_strays(user_id, added)
            return moved
        pending = {qid: new_reviews[qid] for qid in lost}  # changed meanwhile: read and plan again
    raise RuntimeError(f"cards of {user_id} kept changing")


@dataclass(frozen=True)
class _CardPlan:
    question_id: str
    reviews: set[str]
    before: list[Review]
    after: list[Review]
    day: str
    entry: str
    old: tuple[str, str] | None  # (day, entry) it leaves in the index
    fields: dict[str, object]
    read_count: int | None


def _plan(
    question_id: str, card: ReviewCard | None, new: set[str], timezone: str, retention: float | None
) -> _CardPlan | None:
    stored = set(card.reviews or ()) if card is not None else set()
    reviews = stored | new
    after = rules.decode_all(reviews)
    schedule = rules.schedule(after, retention)
    if schedule is None:
        return None
    due = clock.iso(schedule.due)
    day = local_date(schedule.due, timezone).isoformat()
    entry = DueEntry(due, question_id, schedule.stability, int(schedule.last_review.timestamp() * 1000)).encode()
    if card is not None and reviews == stored and card.due_entry == entry:
        return None
    old = (card.due_day, card.due_entry) if card is not None and card.due_entry and card.due_day else None
    fields: dict[str, object] = {
        "due": due,
        "due_day": day,
        "due_entry": entry,
        "state": schedule.state,
        "stability": schedule.stability,
        "difficulty": schedule.difficulty,
        "last_review": clock.iso(schedule.last_review),
        "scheduled_reviews": schedule.reviews,
        "last_correct": after[-1].correct,
        "last_answered_at": clock.iso_ms_from_ms(after[-1].at_ms),
    }
    read_count = len(stored) if card is not None else None
    return _CardPlan(question_id, reviews, rules.decode_all(stored), after, day, entry, old, fields, read_count)


def _move_in_index(user_id: str, plans: list[_CardPlan], timezone: str) -> None:
    """One ADD per day the cards move to, one DELETE per day they leave, one update per day their
    new reviews count on."""
    adds: dict[str, set[str]] = {}
    removes: dict[str, set[str]] = {}
    done: dict[tuple[str, str], set[str]] = {}
    for plan in plans:
        adds.setdefault(plan.day, set()).add(plan.entry)
        if plan.old is not None and plan.old[1] != plan.entry:
            removes.setdefault(plan.old[0], set()).add(plan.old[1])
        for day, kind in rules.done_days(plan.before, plan.after, _day_of(timezone)):
            done.setdefault((day, kind), set()).add(plan.question_id)
    for day, entries in sorted(adds.items()):
        data.add_due_entries(user_id, day, entries)
    for day, entries in sorted(removes.items()):
        data.remove_due_entries(user_id, day, entries)
    expires_at = clock.epoch() + DONE_DAYS_KEPT_SEC
    for day in sorted({day for day, _ in done}):
        reviewed, introduced = done.get((day, "reviewed"), set()), done.get((day, "introduced"), set())
        data.mark_done(user_id, day, reviewed, introduced, expires_at)


def _drop_strays(user_id: str, added: dict[str, set[tuple[str, str]]]) -> None:
    """Entries this call added for a schedule another run then replaced: removed (idempotent)."""
    if not any(len(entries) > 1 for entries in added.values()):
        return
    cards = data.get_cards(user_id, added)
    for question_id, entries in added.items():
        final = cards.get(question_id)
        for day, entry in entries:
            if final is None or final.due_entry != entry:
                data.remove_due_entries(user_id, day, {entry})


def _day_of(timezone: str) -> Callable[[int], str]:
    return lambda at_ms: local_date(datetime.fromtimestamp(at_ms / 1000, UTC), timezone).isoformat()


# --- reads ---------------------------------------------------------------------------------------


def queue(user_id: str) -> QueueOut:
    return queue_and_plan_inputs(user_id)[0]


def queue_and_plan_inputs(user_id: str) -> tuple[QueueOut, dict[str, Any] | None]:
    """Cards due now, most overdue first, within what is left of today's review allowance, and what
    the plan to exam day needs beside them: one Query (today's done counts sort first, then the
    plan's inputs, then the due days); the zone comes from the session check's cached read."""
    now = clock.now()
    today = local_date(now, learner_timezone(user_id))
    read = data.queue_items(user_id, today.isoformat())
    done, days = read.done, read.days
    reviewed = len(done.reviewed or ()) if done else 0
    remaining = rules.remaining_reviews(reviewed, rules.DAILY_REVIEW_LIMIT)
    now_iso = clock.iso(now)
    entries = sorted(DueEntry.decode(text) for day in days for text in (day.cards or ()))
    due = [entry for entry in entries if entry.due <= now_iso]
    out = QueueOut(
        items=[_due_card(entry, now) for entry in due[:remaining]],
        reviewed_today=reviewed,
        new_today=len(done.introduced or ()) if done else 0,
        remaining_today=remaining,
        daily_review_limit=rules.DAILY_REVIEW_LIMIT,
    )
    return out, (dict(read.plan.body) if read.plan is not None else None)


def _due_card(entry: DueEntry, now: datetime) -> DueCard:
    last = datetime.fromtimestamp(entry.last_review_ms / 1000, UTC)
    return DueCard(
        question_id=entry.question_id,
        due=entry.due,
        overdue_days=max(0, (now - parse(entry.due)).days),
        recall_probability=rules.recall_probability(entry.stability, last, now),
    )


def due_question_ids(user_id: str, limit: int) -> list[str]:
    """What the practice pool `due` draws from, in the queue's order."""
    return [item.question_id for item in queue(user_id).items[:limit]]


def forecast(user_id: str, days: int = 30) -> ForecastOut:
    """Cards due on each of the next 30 days in the learner's zone (those overdue by up to a week
    count today): one Query of those days' items, whatever the number of cards."""
    zone = learner_timezone(user_id)
    today = local_date(clock.now(), zone)
    until = today + timedelta(days=days - 1)
    since = today - timedelta(days=rules.FORECAST_BACKLOG_DAYS)
    found = data.forecast_items(user_id, since.isoformat(), until.isoformat())
    due_days = [date.fromisoformat(item.SK.rsplit("#", 1)[1]) for item in found for _ in (item.cards or ())]
    return ForecastOut(
        timezone=zone,
        days=[ForecastDay(date=day.isoformat(), due=count) for day, count in rules.forecast(due_days, today, days)],
    )


def recall_of(card: ReviewCard | None) -> CardView | None:
    """A seen question's card as a learner sees it beside the question."""
    if card is None or card.stability is None or card.last_review is None:
        return None
    return CardView(
        recall_probability=rules.recall_probability(float(card.stability), parse(str(card.last_review)), clock.now()),
        due=str(card.due),
        reviews=int(card.scheduled_reviews or 0),
    )
