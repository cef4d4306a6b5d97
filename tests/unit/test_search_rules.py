"""Which words a question is found by, and which word a search walks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.questions.rules import (
    MAX_INDEXED_WORDS,
    STOP_WORDS,
    indexed_words,
    lead_word,
    search_words,
)

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
texts = st.lists(st.one_of(words, st.sampled_from(sorted(STOP_WORDS))), max_size=40).map(" ".join)


def test_case_accents_and_punctuation_do_not_matter():
    assert search_words("Crème-BRÛLÉE, (appendicitis)!") == ["creme", "brulee", "appendicitis"]


def test_common_and_short_words_are_dropped_but_numbers_kept():
    assert search_words("A 45-year-old patient with an MI is likely to be...") == ["45"]


@given(texts)
def test_a_search_for_any_indexed_word_finds_the_question(text):
    indexed = indexed_words(text, [])
    for word in search_words(text)[:MAX_INDEXED_WORDS]:
        assert word in indexed
        assert search_words(word.upper()) == [word]  # what an editor types finds what was indexed


@given(texts)
def test_no_stop_word_and_no_duplicate_is_indexed(text):
    found = search_words(text)
    assert len(found) == len(set(found))
    assert not set(found) & STOP_WORDS


@given(st.lists(words, min_size=300, max_size=400, unique=True))
def test_a_question_has_at_most_the_bounded_number_of_words(many):
    assert len(indexed_words(" ".join(many), ["option text"])) <= MAX_INDEXED_WORDS


@given(st.lists(words, min_size=1, max_size=5, unique=True), st.randoms())
def test_the_lead_word_is_the_longest_whatever_the_order(query, rng):
    shuffled = list(query)
    rng.shuffle(shuffled)
    assert lead_word(shuffled) == lead_word(query)
    assert len(lead_word(query)) == max(len(word) for word in query)
