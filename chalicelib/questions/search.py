"""Answering a text search of the question bank from its inverted index (kept by
questions.indexer): a bounded walk of one word's posting list. Design and costs: docs/data-model.md,
patterns Q12-Q14. The index may lag an edit by a moment, so every hit is re-checked against the
question as it is now before it is shown."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.pagination import decode_cursor, encode_cursor
from chalicelib.questions import data, rules
from chalicelib.questions.data import PostingFilter, Question

POSTINGS_PER_CALL = 100  # ~14 KB of keys: 2 RCU per call, eventually consistent
POSTINGS_PER_REQUEST = 400  # at most four calls, whatever the word or the bank's size
CANDIDATE_CHUNK = 20  # questions read per BatchGetItem while looking for hits
CANDIDATES_PER_REQUEST = 100  # at most ~50 RCU of questions per request (4 KB each)


# --- answering a search ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchPage:
    questions: list[Question]
    next_cursor: str | None


def search(text: str, facets: PostingFilter, *, newest_first: bool, limit: int, cursor: str | None) -> SearchPage:
    """Questions containing every word of `text` (after stop words), newest or oldest first.

    Walks the posting list of the rarest-looking word (its postings carry the facets, so filters
    cost no question read), reads the candidates' questions a few at a time and keeps those that
    contain the other words and still match (the index may lag an edit). Stops at `limit` hits,
    POSTINGS_PER_REQUEST postings or CANDIDATES_PER_REQUEST questions read: a page may hold fewer
    hits than asked, with a cursor to go on, but no request reads more than these bounds."""
    words = rules.search_words(text)[: rules.MAX_QUERY_WORDS]
    lead = rules.lead_word(words)
    scope = f"search:{','.join(sorted(words))}:{facets}:{newest_first}"
    start = decode_cursor(cursor, scope)
    after: str | None = start["after"] if start else None
    hits: list[Question] = []
    postings_read = candidates_read = 0
    while postings_read < POSTINGS_PER_REQUEST:
        size = min(POSTINGS_PER_CALL, POSTINGS_PER_REQUEST - postings_read)
        ids, page_end = data.postings_page(lead, facets, newest_first=newest_first, after=after, limit=size)
        postings_read += size
        for chunk_start in range(0, len(ids), CANDIDATE_CHUNK):
            chunk = ids[chunk_start : chunk_start + CANDIDATE_CHUNK]
            if candidates_read + len(chunk) > CANDIDATES_PER_REQUEST:
                return SearchPage(hits, _cursor(after, scope))
            found = data.get_questions(chunk)
            candidates_read += len(chunk)
            for question_id in chunk:
                question = found.get(question_id)
                if question is not None and still_matches(question, words, facets):
                    hits.append(question)
                    if len(hits) == limit:
                        more = question_id != ids[-1] or page_end is not None
                        return SearchPage(hits, _cursor(question_id, scope) if more else None)
                after = question_id
        if page_end is None:
            return SearchPage(hits, None)
        after = page_end
    return SearchPage(hits, _cursor(after, scope))


def _cursor(after: str | None, scope: str) -> str | None:
    return encode_cursor({"after": after}, scope) if after else None


def still_matches(question: Question, words: list[str], facets: PostingFilter) -> bool:
    """A hit re-checked against the question as it is now: the index may lag an edit by a moment."""
    current = indexed_words_of(question)
    status, category, subcategory, difficulty, question_type = data.facets_of(question)
    return (
        all(word in current for word in words)
        and status == facets.status
        and (facets.category is None or category == facets.category)
        and (facets.subcategory is None or subcategory == facets.subcategory)
        and (facets.difficulty is None or difficulty == facets.difficulty)
        and (facets.question_type is None or question_type == facets.question_type)
    )


def indexed_words_of(question: Question) -> frozenset[str]:
    return rules.indexed_words(question.stem, (option.text for option in question.options))
