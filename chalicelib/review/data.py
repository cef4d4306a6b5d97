"""Review cards and the due index, and their keys. See docs/data-model.md, patterns RV1-RV5, and
docs/learning.md.

`USER#<u>` / `CARD#<question>`: the reviews of one question (a string set: adding a review twice
changes nothing) and the FSRS schedule computed from them, with the entry it has in the due index.
`USER#<u>` / `DUEDAY#<local day>`: the due index, one item per day, a string set of entries
`<due instant>|<question>|<stability>|<last review ms>` (what the queue shows, without a card read).
`USER#<u>` / `DUEDAY#!DONE#<local day>`: the questions reviewed again and answered first that day
(the daily allowance); `!` sorts before every day, so the queue's one Query reads it first.
`USER#<u>` / `DUEDAY#!PLAN`: what the plan to exam day needs beside the queue (progress per category,
pace, exam date, daily minutes), kept by the dashboard rebuild; placed here so the plan's screen is
the queue's one Query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action

from chalicelib.core.db import TableItem, is_condition_failure, typed, user_pk

CARD_PREFIX = "CARD#"
DAY_PREFIX = "DUEDAY#"
DONE_PREFIX = "DUEDAY#!DONE#"
PLAN_SK = "DUEDAY#!PLAN"  # after the done items ("D" < "P"), before every day
# Items per queue read: today's done counts and the 7 oldest due days. A day holds what fell due
# that day (about the daily allowance at most, ~8 KB), so this is enough to fill the allowance
# while keeping the read bounded (~6 RCU) however far behind the learner is.
QUEUE_ITEMS = 8


class ReviewCard(TableItem, discriminator="ReviewCard"):
    question_id = UnicodeAttribute()
    reviews = UnicodeSetAttribute(null=True)  # encoded rules.Review, one per answer
    due = UnicodeAttribute(null=True)  # ISO instant (UTC)
    due_day = UnicodeAttribute(null=True)  # the learner's local day of `due` (its due-index item)
    due_entry = UnicodeAttribute(null=True)  # its entry in that item
    state = NumberAttribute(null=True)
    stability = NumberAttribute(null=True)
    difficulty = NumberAttribute(null=True)
    last_review = UnicodeAttribute(null=True)
    scheduled_reviews = NumberAttribute(null=True)  # how many reviews the schedule reflects
    # The newest answer (the pools "incorrect" and "unseen" read these): in the pipeline's total order.
    last_correct = BooleanAttribute(null=True)
    last_answered_at = UnicodeAttribute(null=True)


class DueDay(TableItem, discriminator="DueDay"):
    cards = UnicodeSetAttribute(null=True)


class PlanInputs(TableItem, discriminator="PlanInputs"):
    body = JSONAttribute()
    built_at = UnicodeAttribute()  # a rebuild that started earlier never overwrites a later one


def save_plan_inputs(user_id: str, built_at: str, body: dict[str, object]) -> None:
    item = PlanInputs(PK=user_pk(user_id), SK=PLAN_SK, body=body, built_at=built_at)
    try:
        item.save(condition=PlanInputs.built_at.does_not_exist() | (PlanInputs.built_at < built_at))
    except PutError as exc:
        if not is_condition_failure(exc):
            raise


class DoneDay(TableItem, discriminator="DoneDay"):
    reviewed = UnicodeSetAttribute(null=True)  # question ids reviewed again that day
    introduced = UnicodeSetAttribute(null=True)  # question ids answered for the first time that day


@dataclass(frozen=True, order=True)
class DueEntry:
    due: str
    question_id: str
    stability: float
    last_review_ms: int

    def encode(self) -> str:
        return f"{self.due}|{self.question_id}|{self.stability}|{self.last_review_ms}"

    @classmethod
    def decode(cls, text: str) -> DueEntry:
        due, question_id, stability, last_ms = text.split("|")
        return cls(due, question_id, float(stability), int(last_ms))


def card_key(user_id: str, question_id: str) -> tuple[str, str]:
    return user_pk(user_id), CARD_PREFIX + question_id


def card_ref(user_id: str, question_id: str) -> ReviewCard:
    return ReviewCard(PK=user_pk(user_id), SK=CARD_PREFIX + question_id)


def get_cards(user_id: str, question_ids: Iterable[str]) -> dict[str, ReviewCard]:
    """BatchGetItem, consistent (the scheduler reads what it is about to change)."""
    keys = [card_key(user_id, qid) for qid in dict.fromkeys(question_ids)]
    return {c.question_id: c for c in ReviewCard.batch_get(keys, consistent_read=True)}


def save_card(
    user_id: str, question_id: str, reviews: set[str], fields: dict[str, object], read_count: int | None
) -> bool:
    """The card with all its reviews and its schedule, if it still has the reviews it was read
    with; False when another run changed it meanwhile (read again)."""
    actions: list[Action] = [
        typed(ReviewCard),
        ReviewCard.question_id.set(question_id),
        ReviewCard.reviews.set(reviews),
    ]
    actions += [getattr(ReviewCard, name).set(value) for name, value in fields.items()]
    condition = ReviewCard.PK.does_not_exist() if read_count is None else _reviews_count_is(read_count)
    try:
        card_ref(user_id, question_id).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def _reviews_count_is(count: int) -> Condition:
    return size(ReviewCard.reviews) == count  # type: ignore[no-untyped-call,no-any-return]


def add_due_entries(user_id: str, day: str, entries: set[str]) -> None:
    DueDay(PK=user_pk(user_id), SK=DAY_PREFIX + day).update(actions=[typed(DueDay), DueDay.cards.add(entries)])


def remove_due_entries(user_id: str, day: str, entries: set[str]) -> None:
    """DELETE from the day's set (idempotent); the item goes when its set is empty."""
    item = DueDay(PK=user_pk(user_id), SK=DAY_PREFIX + day)
    try:
        item.update(actions=[DueDay.cards.delete(entries)], condition=DueDay.PK.exists())
    except UpdateError as exc:
        if is_condition_failure(exc):
            return  # no such day item: nothing to remove
        raise
    if not item.cards:
        try:
            item.delete(condition=DueDay.cards.does_not_exist())
        except DeleteError as exc:
            if not is_condition_failure(exc):  # an entry was added meanwhile: keep the item
                raise


def mark_done(user_id: str, day: str, reviewed: set[str], introduced: set[str], expires_at: int) -> None:
    actions: list[Action] = [typed(DoneDay), DoneDay.expires_at.set(expires_at)]
    if reviewed:
        actions.append(DoneDay.reviewed.add(reviewed))
    if introduced:
        actions.append(DoneDay.introduced.add(introduced))
    DoneDay(PK=user_pk(user_id), SK=DONE_PREFIX + day).update(actions=actions)


@dataclass(frozen=True)
class QueueRead:
    done: DoneDay | None  # today's
    days: list[DueDay]  # the oldest due days up to today
    plan: PlanInputs | None


def queue_items(user_id: str, today: str) -> QueueRead:
    """One Query: the done items (they sort first; only today's counts), the plan's inputs, then
    the due days up to today, oldest first."""
    found = TableItem.query(
        user_pk(user_id),
        TableItem.SK.between(DAY_PREFIX, f"{DAY_PREFIX}{today}~"),
        limit=QUEUE_ITEMS + 1,
        page_size=QUEUE_ITEMS + 1,
    )
    done: DoneDay | None = None
    plan: PlanInputs | None = None
    days: list[DueDay] = []
    for item in found:
        if isinstance(item, DoneDay) and DONE_PREFIX + today == item.SK:
            done = item
        elif isinstance(item, PlanInputs):
            plan = item
        elif isinstance(item, DueDay):
            days.append(item)
    return QueueRead(done, days, plan)


def forecast_items(user_id: str, since: str, until: str) -> list[DueDay]:
    """One Query: the due days from `since` to `until`."""
    found = TableItem.query(user_pk(user_id), TableItem.SK.between(f"{DAY_PREFIX}{since}", f"{DAY_PREFIX}{until}~"))
    return [item for item in found if isinstance(item, DueDay)]


def all_cards(user_id: str) -> list[ReviewCard]:
    """Every card of a learner (the practice pools: unseen, last answered wrong). Its cost grows with
    the questions the learner has answered, like the question states it replaced."""
    found = ReviewCard.query(user_pk(user_id), ReviewCard.SK.startswith(CARD_PREFIX))
    return [card for card in found if isinstance(card, ReviewCard)]


def get_card(user_id: str, question_id: str) -> ReviewCard | None:
    try:
        return ReviewCard.get(*card_key(user_id, question_id))
    except DoesNotExist:
        return None
