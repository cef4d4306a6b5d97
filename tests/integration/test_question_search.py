"""Staff (and learners) find questions by the words of their stem and options: an index kept by the
stream, bounded per request, never showing a question that no longer matches."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.core.db import TableItem
from chalicelib.core.security import Role
from chalicelib.questions import data as questions
from chalicelib.questions import indexer
from chalicelib.questions.data import Question, SearchPosting, SearchState
from chalicelib.questions.search import indexed_words_of
from local_stack.meter import metering
from tests.support.accounts import register, staff
from tests.support.content import category, question


@pytest.fixture
def editor(client):
    editor = staff(client, Role.EDITOR)
    category(client, editor, "anatomy", ("thorax",))
    category(client, editor, "pathology", (), order=1)
    return editor


def found(client, token, query: str) -> list[str]:
    response = client.get(f"/questions?{query}", token=token)
    assert response.status == 200, response
    return [q["id"] for q in response.json["items"]]


def stem(words: str) -> str:
    return f"Which finding is typical of {words} in this clinical vignette?"


def test_an_editor_finds_questions_by_any_word_in_any_case(client, editor, stream):
    token = editor["access"]
    hernia = question(client, editor, "anatomy", stem=stem("an inguinal hernia"), status="draft")
    fracture = question(client, editor, "pathology", stem=stem("a scaphoid fracture"))
    both = question(client, editor, "pathology", stem=stem("a fracture near an inguinal canal"))
    stream.poll_once()

    assert found(client, token, "q=inguinal&status=draft") == [hernia["id"]]
    assert found(client, token, "q=FRACTURE") == [both["id"], fracture["id"]]  # newest first
    assert found(client, token, "q=fracture&order=asc") == [fracture["id"], both["id"]]
    assert found(client, token, "q=inguinal+fracture") == [both["id"]]  # every word
    assert found(client, token, "q=fracture&category=anatomy") == []
    assert found(client, token, "q=scaphoid+hernia") == []
    # an option's words count too (every option of these questions reads "Option ...")
    assert found(client, token, "q=option&category=pathology") == [both["id"], fracture["id"]]


def test_learners_find_only_published_questions_without_answers(client, editor, stream):
    question(client, editor, "anatomy", stem=stem("a draft about the spleen"), status="draft")
    published = question(client, editor, "anatomy", stem=stem("the spleen hilum"))
    stream.poll_once()
    learner = register(client)
    page = client.get("/questions?q=spleen", token=learner["access"]).json
    assert [q["id"] for q in page["items"]] == [published["id"]]
    assert "is_correct" not in page["items"][0]["options"][0]
    assert client.get("/questions?q=spleen&status=draft", token=learner["access"]).status == 403


@pytest.mark.parametrize("q", ["the of and", "a b", "!!!"])
def test_a_search_without_a_searchable_word_is_a_422_on_q(client, editor, q):
    response = client.get(f"/questions?{urlencode({'q': q})}", token=editor["access"])
    assert response.status == 422, response
    assert response.json["error"]["details"][0]["field"] == "q"


def test_edits_move_a_question_between_words_and_a_lagging_index_shows_no_stale_hit(client, editor, stream):
    token = editor["access"]
    item = question(client, editor, "anatomy", stem=stem("the femoral triangle"))
    stream.poll_once()
    edited = client.patch(f"/questions/{item['id']}", {"stem": stem("the popliteal fossa")}, token=token)
    assert edited.status == 200
    # The stream has not run yet: the old word's posting is still there, yet the hit is not shown.
    assert found(client, token, "q=femoral") == []
    stream.poll_once()
    assert found(client, token, "q=popliteal") == [item["id"]]
    assert not _postings_for(item["id"]) & {"femoral", "triangle"}

    client.patch(f"/questions/{item['id']}", {"status": "draft"}, token=token)
    stream.poll_once()
    assert found(client, token, "q=popliteal") == []
    assert found(client, token, "q=popliteal&status=draft") == [item["id"]]


def test_a_deleted_draft_leaves_no_posting(client, editor, stream):
    item = question(client, editor, "anatomy", stem=stem("the carpal tunnel"), status="draft")
    stream.poll_once()
    assert "carpal" in _postings_for(item["id"])
    assert client.delete(f"/questions/{item['id']}", token=editor["access"]).status == 204
    stream.poll_once()
    assert _postings_for(item["id"]) == set()
    assert questions.get_search_state(item["id"]) is None


def test_pages_of_a_common_word_are_complete_and_disjoint(client, editor, stream):
    created = [question(client, editor, "anatomy", stem=stem(f"thyroid nodule case {n}"))["id"] for n in range(23)]
    question(client, editor, "pathology", stem=stem("an unrelated goitre"))
    stream.poll_once()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "thyroid", "limit": 10, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/questions?{urlencode(params)}", token=editor["access"]).json
        seen += [q["id"] for q in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)
    first = client.get("/questions?q=thyroid&limit=10", token=editor["access"]).json["next_cursor"]
    forged = client.get(f"/questions?{urlencode({'q': 'nodule', 'cursor': first})}", token=editor["access"])
    assert forged.status == 400


def test_a_request_reads_a_bounded_number_of_postings_however_common_the_word(client, editor, stream, monkeypatch):
    """A rare filter over a common word: a page stops at the read bound and hands back a cursor, and
    following the cursors finds the match. (Bounds shrunk from 100 x 4 to 2 x 2 to show it.)"""
    from chalicelib.questions import search

    monkeypatch.setattr(search, "POSTINGS_PER_CALL", 2)
    monkeypatch.setattr(search, "POSTINGS_PER_REQUEST", 4)
    target = question(client, editor, "pathology", stem=stem("a sternal angle fracture"))  # the oldest
    for n in range(6):
        question(client, editor, "anatomy", stem=stem(f"a sternal angle variant {n}"))
    stream.poll_once()
    with metering() as first:
        page = client.get("/questions?q=sternal&category=pathology", token=editor["access"]).json
    assert page["items"] == [] and page["next_cursor"]  # 4 newest postings read, none in pathology
    assert [c.operation for c in first.calls].count("Query") == 2
    found: list[str] = []
    cursor = page["next_cursor"]
    while cursor:
        params = urlencode({"q": "sternal", "category": "pathology", "cursor": cursor})
        page = client.get(f"/questions?{params}", token=editor["access"]).json
        found += [q["id"] for q in page["items"]]
        cursor = page["next_cursor"]
    assert found == [target["id"]]


def _postings_for(question_id: str) -> set[str]:
    state = questions.get_search_state(question_id)
    words = set(state.words or ()) if state else set()
    return {w for w in words | {"femoral", "triangle", "carpal", "tunnel"} if _posting_exists(w, question_id)}


def _posting_exists(word: str, question_id: str) -> bool:
    key = questions.posting(word, question_id, ("draft", "x", None, 1, "single"))
    return SearchPosting.count(key.PK, SearchPosting.SK == key.SK) == 1


# --- the index equals a recomputation from the questions, however the records arrive ---------------


def index_snapshot() -> set[tuple[str, str, str]]:
    """Every posting in the table (a Scan: fine in a test)."""
    return {
        (p.PK, p.SK, f"{p.status}|{p.category}|{p.difficulty}")
        for p in TableItem.scan(TableItem.type == SearchPosting)
        if isinstance(p, SearchPosting)
    }


def recomputed() -> set[tuple[str, str, str]]:
    expected = set()
    for q in TableItem.scan(TableItem.type == Question):
        assert isinstance(q, Question)
        for word in indexed_words_of(q):
            key = questions.posting(word, q.question_id, questions.facets_of(q))
            expected.add((key.PK, key.SK, f"{q.status}|{q.category}|{int(q.difficulty)}"))
    return expected


def _edit_history(client, editor) -> None:
    token = editor["access"]
    a = question(client, editor, "anatomy", stem=stem("the brachial plexus"))
    b = question(client, editor, "anatomy", stem=stem("the radial nerve"), status="draft")
    c = question(client, editor, "pathology", stem=stem("a radial head fracture"), status="draft")
    client.patch(f"/questions/{a['id']}", {"stem": stem("the lumbar plexus")}, token=token)
    client.patch(f"/questions/{b['id']}", {"status": "published", "difficulty": 5}, token=token)
    client.patch(f"/questions/{a['id']}", {"stem": stem("the brachial plexus again")}, token=token)
    client.delete(f"/questions/{c['id']}", token=token)


@pytest.mark.allow_scan  # the oracle reads the whole table; the code under test never does
@pytest.mark.parametrize("seed", range(5))
def test_twice_shuffled_and_split_delivery_gives_the_recomputed_index(client, editor, stream, seed):
    _edit_history(client, editor)
    records = stream.read()
    rng = random.Random(seed)
    doubled = records + rng.sample(records, len(records))
    rng.shuffle(doubled)
    cut = rng.randrange(1, len(doubled))
    assert stream.deliver(doubled[:cut]) == 0
    assert stream.deliver(doubled[cut:]) == 0
    assert index_snapshot() == recomputed()


def _index_items() -> list[TableItem]:
    return [i for i in TableItem.scan() if isinstance(i, SearchPosting | SearchState)]


def _restore_index(items: list[TableItem]) -> None:
    with TableItem.batch_write() as batch:
        for stale in _index_items():
            batch.delete(stale)
    with TableItem.batch_write() as batch:
        for item in items:
            batch.save(item)


@pytest.mark.allow_scan
def test_a_crash_before_any_write_is_repaired_by_the_redelivery(client, editor, stream, monkeypatch):
    """The index of three questions is built; then they change (new words, new facets, a deletion).
    For each write the indexer then makes, a run that crashes right before it (Lambda redelivers
    the records, as the poller does) ends with the index a recomputation gives."""
    token = editor["access"]
    a = question(client, editor, "anatomy", stem=stem("the brachial plexus"))
    b = question(client, editor, "anatomy", stem=stem("the radial nerve"), status="draft")
    c = question(client, editor, "pathology", stem=stem("a radial head fracture"), status="draft")
    stream.poll_once()
    before = _index_items()
    client.patch(f"/questions/{a['id']}", {"stem": stem("the lumbar plexus")}, token=token)
    client.patch(f"/questions/{b['id']}", {"status": "published", "difficulty": 5}, token=token)
    client.delete(f"/questions/{c['id']}", token=token)
    records = stream.read()

    real = {name: getattr(questions, name) for name in ("write_postings", "save_search_state", "delete_search_state")}
    writes = {"n": 0, "crash_at": 0}

    def counted(fn):
        def run(*args, **kwargs):
            writes["n"] += 1
            if writes["n"] == writes["crash_at"]:
                raise RuntimeError("crashed mid-sync")
            return fn(*args, **kwargs)

        return run

    for name, fn in real.items():
        monkeypatch.setattr(questions, name, counted(fn))
    assert stream.deliver(records) == 0
    total = writes["n"]
    assert total >= 7  # a: widen, write, narrow; b: rewrite facets, save; c: widen-free delete, drop
    assert index_snapshot() == recomputed()
    for crash_at in range(1, total + 1):
        _restore_index(before)
        writes.update(n=0, crash_at=crash_at)
        assert stream.deliver(records) == 0
        assert writes["n"] > crash_at, "the crash did not happen"
        assert index_snapshot() == recomputed(), f"crash before write {crash_at}"


@pytest.mark.allow_scan
def test_the_backfill_job_indexes_questions_written_before_the_index(client, editor, stream):
    item = question(client, editor, "anatomy", stem=stem("the obturator canal"))
    stream.read()  # these records are lost: as if the index did not exist when they were written
    assert found(client, editor["access"], "q=obturator") == []
    assert indexer.index_question_search()["indexed"] == 1
    assert found(client, editor["access"], "q=obturator") == [item["id"]]
    assert index_snapshot() == recomputed()
