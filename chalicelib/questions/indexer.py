"""Keeps the question search index (questions.search) matching the bank, from the table stream.

State-based, not event-based: whatever record arrives (insert, edit, publish, delete; once, twice,
out of order, after a crash), the indexer reads the question as it is now and makes its postings
match it. Redelivery and reordering cannot leave a wrong index, only a late one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.core.jobs import job
from chalicelib.core.streams import FollowUp, StreamChange, consumes
from chalicelib.questions import data
from chalicelib.questions.search import indexed_words_of

STATUSES = ("draft", "published", "archived")


def sync_question(question_id: str) -> None:
    """Make the postings of one question match the question as it is now (or remove them all).

    Crash-safe order: the state first records as `pending` every word about to get a posting, then
    the postings are written, then the state names exactly the new words. A crash at any point
    leaves a state whose words and pending words cover every posting that exists, and pending words
    are rewritten by the next sync, so it ends with exactly the question's postings."""
    question = data.get_question(question_id)
    state = data.get_search_state(question_id)
    confirmed = set(state.words or ()) if state else set()
    maybe = set(state.pending or ()) if state else set()
    wanted = set(indexed_words_of(question)) if question else set()
    facets = data.facets_text(data.facets_of(question)) if question else ""
    old_facets = state.facets if state else ""
    if state is None and question is None:
        return
    if state is not None and not maybe and confirmed == wanted and old_facets == facets:
        return
    to_put = wanted if old_facets != facets else wanted - confirmed
    if to_put:
        data.save_search_state(question_id, confirmed, old_facets, pending=maybe | to_put)
    puts = [data.posting(word, question_id, data.facets_of(question)) for word in sorted(to_put)] if question else []
    data.write_postings(puts, (confirmed | maybe) - wanted, question_id)
    if question is None:
        data.delete_search_state(question_id)
    else:
        data.save_search_state(question_id, wanted, facets)


@consumes("Question", removals=True)
def on_question_change(change: StreamChange) -> list[FollowUp]:
    image = change.new or change.old or {}
    question_id = str(image.get("question_id", ""))
    if not question_id:
        return []
    return [FollowUp(key=f"question-search:{question_id}", work=_sync_later(question_id))]


def _sync_later(question_id: str) -> Callable[[], None]:
    return lambda: sync_question(question_id)


@job("index_question_search")
def index_question_search() -> dict[str, Any]:
    """Once, after deploying search: indexes the questions written before it (pages of the status
    listings; a maintenance run, never a request). Safe to run again: synced questions are skipped
    after two reads."""
    count = 0
    for status in STATUSES:
        for question in data.questions_in(status):
            sync_question(question.question_id)
            count += 1
    return {"indexed": count}
