"""How an answer is judged, and which selections are admissible. Pure: no I/O, no clock.

Practice, exams, the pipeline and the dashboard all score through these functions, so a learner
sees one definition of "correct" and one definition of a percentage everywhere."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass


def score_percent(answered: int, correct: int) -> float:
    """Correct answers as a percentage, rounded to two decimals; 0 when nothing was answered."""
    return round(100 * correct / answered, 2) if answered else 0.0


def is_correct(selected: Iterable[str], correct: Iterable[str]) -> bool:
    """Set equality of the selected and the correct options (the spec's rule). An empty selection
    is never correct, even for a question that (wrongly) has no correct option."""
    chosen = set(selected)
    return bool(chosen) and chosen == set(correct)


@dataclass(frozen=True)
class SelectionProblem:
    """Why a selection cannot be accepted; the caller names the field it came from."""

    kind: str
    message: str


def selection_problem(options: Collection[str], question_type: str, selected: list[str]) -> SelectionProblem | None:
    """None if `selected` is an admissible answer to a question with these option ids and type."""
    if len(set(selected)) != len(selected):
        return SelectionProblem("duplicate_option", "Each option may be selected once.")
    unknown = [option for option in selected if option not in options]
    if unknown:
        return SelectionProblem("unknown_option", f"Not options of this question: {', '.join(unknown)}.")
    if question_type == "single" and len(selected) > 1:
        return SelectionProblem("too_many", "A single best answer question takes exactly one option.")
    return None


# --- text search: which words a question is found by (docs/data-model.md, patterns Q12-Q14) -------

MAX_INDEXED_WORDS = 200  # per question: bounds a question's postings (a typical stem has ~60)
MAX_QUERY_WORDS = 5
# Words too common in clinical vignettes or English to narrow a search: their posting lists would
# hold most of the bank. A search made only of them is refused, not run.
_STOP_WORDS_TEXT = """a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no nor
not now of off on once only or other our out over own same she should so some such than that the
their them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your patient patients year years old
following likely best next"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"[a-z0-9]+")


def search_words(text: str) -> list[str]:
    """The words of `text` a search matches on, in order of first appearance: lower-cased, accents
    removed, split on anything but letters and digits; stop words and one- or two-letter words
    dropped (numbers of two digits or more are kept: "45-year-old" is found by "45")."""
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    words = (w for w in _WORD.findall(folded) if w not in STOP_WORDS and (len(w) >= 3 or (w.isdigit() and len(w) >= 2)))
    return list(dict.fromkeys(words))


def indexed_words(stem: str, option_texts: Iterable[str]) -> frozenset[str]:
    """The words a question is found by: its stem's, then its options', at most MAX_INDEXED_WORDS."""
    words = search_words(" ".join([stem, *option_texts]))
    return frozenset(words[:MAX_INDEXED_WORDS])


def lead_word(words: list[str]) -> str:
    """The word whose posting list a search walks: the longest (long words are rare in a question
    bank, so its list is short), ties broken alphabetically so a query always walks the same list."""
    return min(words, key=lambda w: (-len(w), w))
