"""How an answer is judged, and which selections are admissible. Pure: no I/O, no clock.

Practice, exams, the pipeline and the dashboard all score through these functions, so a learner
sees one definition of "correct" and one definition of a percentage everywhere."""

from __future__ import annotations

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
