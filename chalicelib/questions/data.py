"""Question items and their keys. See docs/data-model.md, patterns Q1-Q9."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    BinarySetAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.cohort.data import QuestionStat, stat_key
from chalicelib.core.db import TableItem
from chalicelib.core.pagination import collect, decode_cursor
from chalicelib.review.data import ReviewCard, card_key

CURRENT_SK = "CURRENT"
NO_SUBCATEGORY = "-"
PUBLISHED = "published"


def question_pk(question_id: str) -> str:
    return f"Q#{question_id}"


def question_id_of(pk: str) -> str:
    return pk.removeprefix(question_pk(""))


def version_sk(version: int) -> str:
    return f"V#{version:06d}"


def normalise_stem(stem: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", stem.lower()).strip()


def stem_hash(stem: str) -> str:
    return hashlib.sha256(normalise_stem(stem).encode()).hexdigest()


class OptionMap(MapAttribute[str, Any]):
    id = UnicodeAttribute()
    text = UnicodeAttribute()
    is_correct = BooleanAttribute()


class MediaMap(MapAttribute[str, Any]):
    url = UnicodeAttribute()
    kind = UnicodeAttribute()
    alt_text = UnicodeAttribute(default="")
    caption = UnicodeAttribute(default="")


class Question(TableItem, discriminator="Question"):
    question_id = UnicodeAttribute()
    stem = UnicodeAttribute()
    question_type = UnicodeAttribute()  # single | multi ('type' is the discriminator)
    category = UnicodeAttribute()
    subcategory = UnicodeAttribute(null=True)
    difficulty = NumberAttribute()
    options = ListAttribute[OptionMap](of=OptionMap)
    media = ListAttribute[MediaMap](of=MediaMap, default=list)
    explanation = UnicodeAttribute(default="")
    reference = UnicodeAttribute(default="")
    status = UnicodeAttribute()  # draft | published | archived
    ever_published = BooleanAttribute(default=False)
    issued_option_ids = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    stem_hash = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    def index_keys(self) -> None:
        """Place the question in the listing indexes for its status, category, subcategory, difficulty."""
        sub = self.subcategory or NO_SUBCATEGORY
        self.GSI1PK = f"QBANK#{self.status}#{self.category}"
        self.GSI1SK = f"{sub}#{int(self.difficulty)}#{self.question_id}"
        self.GSI2PK = f"QBANK#{self.status}"
        self.GSI2SK = f"{self.category}#{sub}#{self.question_id}"


class QuestionVersion(TableItem, discriminator="QuestionVersion"):
    question_id = UnicodeAttribute()
    number = NumberAttribute()
    snapshot = UnicodeAttribute()  # JSON of the staff view at that version
    edited_by = UnicodeAttribute()
    edited_at = UnicodeAttribute()


class StemClaim(TableItem, discriminator="StemClaim"):
    question_id = UnicodeAttribute()


def stem_claim(question_id: str, hashed: str) -> StemClaim:
    return StemClaim(PK=f"STEM#{hashed}", SK="STEM", question_id=question_id)


def question_key(question_id: str) -> tuple[str, str]:
    """The (PK, SK) of a question's current version, for a BatchGetItem with other items."""
    return question_pk(question_id), CURRENT_SK


def get_question(question_id: str) -> Question | None:
    try:
        return Question.get(question_pk(question_id), CURRENT_SK, consistent_read=True)
    except DoesNotExist:
        return None


@dataclass(frozen=True)
class QuestionRead:
    question: Question | None
    card: ReviewCard | None = None  # the learner's review card, once they have answered it
    stat: QuestionStat | None = None  # how everyone answered it


def get_question_with(question_id: str, user_id: str | None = None) -> QuestionRead:
    """A question, how everyone answered it and (for a learner) their review card of it: one
    BatchGetItem, consistent (the question must be current)."""
    keys = [question_key(question_id), stat_key(question_id)]
    if user_id is not None:
        keys.append(card_key(user_id, question_id))
    found = {type(item): item for item in TableItem.batch_get(keys, consistent_read=True)}
    question, card, stat = found.get(Question), found.get(ReviewCard), found.get(QuestionStat)
    return QuestionRead(
        question if isinstance(question, Question) else None,
        card if isinstance(card, ReviewCard) else None,
        stat if isinstance(stat, QuestionStat) else None,
    )


def get_questions(question_ids: list[str]) -> dict[str, Question]:
    """Many questions by id: BatchGetItem, 100 keys per call."""
    keys = [(question_pk(qid), CURRENT_SK) for qid in dict.fromkeys(question_ids)]
    return {q.question_id: q for q in Question.batch_get(keys) if isinstance(q, Question)}


def get_published(question_ids: list[str]) -> list[Question]:
    """The published ones of these questions, in the order given (BatchGetItem): a question
    unpublished or deleted since its id was drawn is left out, and the caller decides."""
    found = get_questions(question_ids)
    return [found[qid] for qid in question_ids if qid in found and found[qid].status == PUBLISHED]


def get_stem_claims(hashes: list[str]) -> dict[str, str]:
    keys = [(f"STEM#{h}", "STEM") for h in dict.fromkeys(hashes)]
    return {claim.PK.removeprefix("STEM#"): claim.question_id for claim in StemClaim.batch_get(keys)}


def versions(question_id: str) -> list[QuestionVersion]:
    return list(QuestionVersion.query(question_pk(question_id), QuestionVersion.SK.startswith("V#")))


def list_questions(
    *,
    status: str,
    category: str | None,
    subcategory: str | None,
    difficulty: int | None,
    question_type: str | None,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[Question], str | None]:
    """Published (or staff-chosen status) questions by the most selective index available, in the
    index's order (category, subcategory, difficulty, id) or its reverse."""
    scope = f"questions:{status}:{category}:{subcategory}:{difficulty}:{question_type}:{descending}"
    start = decode_cursor(cursor, scope)
    filters: list[Condition] = []
    if question_type:
        filters.append(Question.question_type == question_type)
    if category:
        prefix = f"{subcategory}#" if subcategory else ""
        if subcategory and difficulty:
            prefix += f"{difficulty}#"
        elif difficulty:
            filters.append(Question.difficulty == difficulty)
        results = Question.gsi1.query(
            f"QBANK#{status}#{category}",
            Question.GSI1SK.startswith(prefix) if prefix else None,
            filter_condition=_all(filters),
            limit=limit,
            last_evaluated_key=start,
            scan_index_forward=not descending,
        )
    else:
        if difficulty:
            filters.append(Question.difficulty == difficulty)
        results = Question.gsi2.query(
            f"QBANK#{status}",
            filter_condition=_all(filters),
            limit=limit,
            last_evaluated_key=start,
            scan_index_forward=not descending,
        )
    items, next_cursor = collect(results, scope)
    return [q for q in items if isinstance(q, Question)], next_cursor


def _all(conditions: list[Condition]) -> Condition | None:
    combined: Condition | None = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


# --- published id lists: what practice and exams draw from (docs/data-model.md, pattern Q10) -----

ID_LIST_PREFIX = "QIDS#"
IdListKey = tuple[str, str]
IdListChanges = dict[IdListKey, tuple[set[bytes], set[bytes]]]  # key -> (ids to add, ids to remove)


class QuestionIdList(TableItem, discriminator="QuestionIdList"):
    """The published questions of one category, subcategory and difficulty, as raw id bytes (16 per
    question): a session reads a category's few lists instead of its questions. Kept exact by the
    question transactions (ADD and DELETE on a set are also idempotent)."""

    ids = BinarySetAttribute(legacy_encoding=False, null=True)


Listing = tuple[IdListKey, bytes]  # the list a question is in, and its id as stored there


def listing_of(question: Question | None) -> Listing | None:
    """Where a question is listed (published questions only); None when it is not."""
    if question is None or question.status != PUBLISHED:
        return None
    sub = question.subcategory or NO_SUBCATEGORY
    key = f"{ID_LIST_PREFIX}{question.category}", f"{sub}#{int(question.difficulty)}"
    return key, bytes.fromhex(question.question_id)


def id_list_changes(moves: list[tuple[Listing | None, Listing | None]]) -> IdListChanges:
    """Which list items gain or lose which ids when questions move from `before` to `after`; per
    item, since a transaction may touch each item only once."""
    changes: IdListChanges = {}
    for before, after in moves:
        if before == after:
            continue
        for listing, slot in ((before, 1), (after, 0)):
            if listing is not None:
                key, raw_id = listing
                changes.setdefault(key, (set(), set()))[slot].add(raw_id)
    for key, (added, removed) in changes.items():
        if added & removed:
            raise ValueError(f"ids both added to and removed from {key}")
    return changes


def _id_list_actions(added: set[bytes], removed: set[bytes]) -> list[Any]:
    actions: list[Any] = [QuestionIdList.type.set(QuestionIdList)]
    if added:
        actions.append(QuestionIdList.ids.add(added))
    if removed:
        actions.append(QuestionIdList.ids.delete(removed))
    return actions


def add_id_list_updates(tx: TransactWrite, changes: IdListChanges) -> None:
    for (pk, sk), (added, removed) in sorted(changes.items()):
        tx.update(QuestionIdList(PK=pk, SK=sk), actions=_id_list_actions(added, removed))


def apply_id_list_changes(changes: IdListChanges) -> None:
    """Outside a transaction (imports): each update is idempotent, so a retry is harmless."""
    for (pk, sk), (added, removed) in sorted(changes.items()):
        QuestionIdList(PK=pk, SK=sk).update(actions=_id_list_actions(added, removed))


def published_ids(category: str, subcategory: str | None = None) -> list[str]:
    """Ids of a category's (or subcategory's) published questions: one Query of a few small items,
    16 bytes per question, whatever the questions' own size."""
    condition = QuestionIdList.SK.startswith(f"{subcategory}#") if subcategory else None
    found = QuestionIdList.query(f"{ID_LIST_PREFIX}{category}", condition)
    return sorted(raw.hex() for item in found for raw in (item.ids or ()))


# --- text search: an inverted index kept by the stream (docs/data-model.md, patterns Q12-Q14) ------

SEARCH_PREFIX = "QWORD#"
SEARCH_STATE_SK = "SEARCH"


class SearchPosting(TableItem, discriminator="SearchPosting"):
    """One word of one question: `QWORD#<word>` / `<question id>`, so a word's questions come in
    creation order (ids are time-ordered). Carries the listing facets so filters need no question read."""

    question_id = UnicodeAttribute()
    status = UnicodeAttribute()
    category = UnicodeAttribute()
    subcategory = UnicodeAttribute(null=True)
    difficulty = NumberAttribute()
    question_type = UnicodeAttribute()


class SearchState(TableItem, discriminator="SearchState"):
    """Which words of a question have postings, and with which facets: lets the indexer write only
    the difference, and find every posting it may have written (crash-safe: see questions.search)."""

    words = UnicodeSetAttribute(null=True)  # postings written with `facets`
    pending = UnicodeSetAttribute(null=True)  # postings that may have been written by a sync cut short
    facets = UnicodeAttribute(default="")


Facets = tuple[str, str, str | None, int, str]  # status, category, subcategory, difficulty, type


def facets_of(question: Question) -> Facets:
    return (
        question.status,
        question.category,
        question.subcategory,
        int(question.difficulty),
        question.question_type,
    )


def facets_text(facets: Facets) -> str:
    return "|".join("" if value is None else str(value) for value in facets)


def posting(word: str, question_id: str, facets: Facets) -> SearchPosting:
    status, category, subcategory, difficulty, question_type = facets
    return SearchPosting(
        PK=f"{SEARCH_PREFIX}{word}",
        SK=question_id,
        question_id=question_id,
        status=status,
        category=category,
        subcategory=subcategory,
        difficulty=difficulty,
        question_type=question_type,
    )


def get_search_state(question_id: str) -> SearchState | None:
    try:
        return SearchState.get(question_pk(question_id), SEARCH_STATE_SK, consistent_read=True)
    except DoesNotExist:
        return None


def save_search_state(question_id: str, words: set[str], facets: str, pending: set[str] | None = None) -> None:
    SearchState(
        PK=question_pk(question_id),
        SK=SEARCH_STATE_SK,
        words=words or None,
        pending=pending or None,
        facets=facets,
    ).save()


def delete_search_state(question_id: str) -> None:
    SearchState(PK=question_pk(question_id), SK=SEARCH_STATE_SK).delete()


def write_postings(puts: list[SearchPosting], deleted_words: set[str], question_id: str) -> None:
    """BatchWriteItem, 25 per call, unprocessed items retried by pynamodb; puts and deletes are
    idempotent, so a retried or redelivered sync writes the same postings."""
    with SearchPosting.batch_write() as batch:
        for item in puts:
            batch.save(item)
        for word in sorted(deleted_words):
            batch.delete(SearchPosting(PK=f"{SEARCH_PREFIX}{word}", SK=question_id))


@dataclass(frozen=True)
class PostingFilter:
    status: str
    category: str | None = None
    subcategory: str | None = None
    difficulty: int | None = None
    question_type: str | None = None

    def condition(self) -> Condition | None:
        conditions: list[Condition] = [SearchPosting.status == self.status]
        if self.category:
            conditions.append(SearchPosting.category == self.category)
        if self.subcategory:
            conditions.append(SearchPosting.subcategory == self.subcategory)
        if self.difficulty:
            conditions.append(SearchPosting.difficulty == self.difficulty)
        if self.question_type:
            conditions.append(SearchPosting.question_type == self.question_type)
        return _all(conditions)


def postings_page(
    word: str, facets: PostingFilter, *, newest_first: bool, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    """One Query call on a word's posting list: the ids of the postings that pass the facets, and the
    id to resume after (None at the list's end). `limit` bounds the postings read, passing or not
    (Limit applies before the filter), so a call's cost does not depend on how common the word is."""
    start = {"PK": {"S": f"{SEARCH_PREFIX}{word}"}, "SK": {"S": after}} if after else None
    results = SearchPosting.query(
        f"{SEARCH_PREFIX}{word}",
        filter_condition=facets.condition(),
        scan_index_forward=not newest_first,
        last_evaluated_key=start,
        page_size=limit,
        attributes_to_get=["SK"],
    )
    page = next(results.page_iter)  # exactly one call: a pynamodb iterator would go on to fill a page
    last_key = page.get("LastEvaluatedKey")
    return [item["SK"]["S"] for item in page.get("Items", [])], (last_key["SK"]["S"] if last_key else None)


def questions_in(status: str) -> Iterator[Question]:
    """Every question of a status, in pages (maintenance only: the search backfill)."""
    yield from (q for q in Question.gsi2.query(f"QBANK#{status}") if isinstance(q, Question))


# --- question imports: one partition per job (docs/data-model.md, patterns Q7-Q9) -----------------

IMPORT_PREFIX = "IMPORT#"
JOB_SK = "JOB"
CHUNK_PREFIX = "CHUNK#"


class ImportJob(TableItem, discriminator="ImportJob"):
    job_id = UnicodeAttribute()
    status = UnicodeAttribute()  # queued | running | completed | failed
    dry_run = BooleanAttribute()
    source = UnicodeAttribute()  # json | csv
    total = NumberAttribute()
    created = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)


class ImportChunk(TableItem, discriminator="ImportChunk"):
    rows = UnicodeAttribute()  # JSON list of raw rows


class ImportCounted(TableItem, discriminator="ImportCounted"):
    """Marks one part of a job's counter updates as applied."""


class ImportRowReport(TableItem, discriminator="ImportRowReport"):
    row = NumberAttribute()
    outcome = UnicodeAttribute()  # failed | skipped
    errors = UnicodeAttribute()  # JSON list of {field, message}


def job_pk(job_id: str) -> str:
    return f"{IMPORT_PREFIX}{job_id}"


def job_id_of(pk: str) -> str:
    return pk.removeprefix(IMPORT_PREFIX)


def import_chunk(job_pk_: str, number: int, rows: str, expires_at: float | None) -> ImportChunk:
    return ImportChunk(PK=job_pk_, SK=f"{CHUNK_PREFIX}{number:05d}", rows=rows, expires_at=expires_at)


def import_chunks(job_pk_: str) -> list[ImportChunk]:
    return list(ImportChunk.query(job_pk_, ImportChunk.SK.startswith(CHUNK_PREFIX)))


def row_report(number: int, outcome: str, errors: str) -> ImportRowReport:
    """A row's outcome; the job's PK is set when the report is written with its job."""
    return ImportRowReport(SK=f"ROW#{number:05d}", row=number, outcome=outcome, errors=errors)


def counted_claim(job_pk_: str, part: int, expires_at: float | None) -> ImportCounted:
    return ImportCounted(PK=job_pk_, SK=f"COUNTED#{part:04d}", expires_at=expires_at)


def get_import_job(job_id: str) -> ImportJob | None:
    try:
        return ImportJob.get(job_pk(job_id), JOB_SK, consistent_read=True)
    except DoesNotExist:
        return None


def import_report(job_id: str) -> tuple[ImportJob | None, list[ImportRowReport]]:
    """The job and every reported row: one Query (`SK >= JOB` skips the stored chunks)."""
    job: ImportJob | None = None
    rows: list[ImportRowReport] = []
    for item in TableItem.query(job_pk(job_id), TableItem.SK >= JOB_SK, consistent_read=True):
        if isinstance(item, ImportJob):
            job = item
        elif isinstance(item, ImportRowReport):
            rows.append(item)
    return job, sorted(rows, key=lambda r: int(r.row))
