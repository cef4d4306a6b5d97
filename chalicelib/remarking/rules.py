"""Re-marking a submitted exam after an editor changed a question's answer key: pure rules (no I/O).
Documented in docs/learning.md ("Re-marking past exams")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from chalicelib.exams.rules import KeyEntry, Mark, decode_picks
from chalicelib.questions.rules import is_correct, score_percent


@dataclass(frozen=True)
class Change:
    position: int  # in paper order
    now_correct: bool


@dataclass(frozen=True)
class Remark:
    key: list[KeyEntry]  # the paper's key with the new correct options
    marks: list[Mark]
    changes: list[Change]  # the questions whose mark moved
    correct: int
    score_percent: float

    def passed(self, pass_mark_percent: float) -> bool:
        return self.score_percent >= pass_mark_percent


class OptionsNotInPaper(ValueError):
    """The new key names an option this paper never showed (added after the sitting): the learner
    could not have chosen it, so the sitting is left as it was marked."""


def remark(
    key: Sequence[KeyEntry], marks: Sequence[Mark], question_id: str, correct_ids: Sequence[str]
) -> Remark | None:
    """The paper marked again against the question's new correct options; None when the paper does
    not hold the question or already has that key (nothing to do)."""
    if len(key) != len(marks):
        raise ValueError(f"a result of {len(marks)} marks for a paper of {len(key)} questions")
    new_key, new_marks, changes = list(key), list(marks), []
    for position, entry in enumerate(key):
        if entry.question_id != question_id:
            continue
        if not correct_ids or any(option not in entry.option_ids for option in correct_ids):
            raise OptionsNotInPaper(question_id)
        correct = sorted(entry.option_ids.index(option) for option in correct_ids)
        if correct == sorted(entry.correct):
            continue
        new_key[position] = replace(entry, correct=correct)
        mark = marks[position]
        right = is_correct(decode_picks(entry.option_ids, mark.picks), list(correct_ids))
        if right != mark.is_correct:
            new_marks[position] = replace(mark, is_correct=right)
            changes.append(Change(position, right))
    if new_key == list(key):
        return None
    right_total = sum(m.is_correct for m in new_marks)
    return Remark(new_key, new_marks, changes, right_total, score_percent(len(new_key), right_total))
