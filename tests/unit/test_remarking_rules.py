"""Re-marking a paper against a corrected key: by hand, and what it must never touch."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.exams.rules import KeyEntry, Mark
from chalicelib.remarking.rules import OptionsNotInPaper, remark


def entry(qid: str, correct: list[int], options: tuple[str, ...] = ("a", "b", "c")) -> KeyEntry:
    return KeyEntry(qid, "anatomy", None, "single", list(options), correct)


KEY = [entry("q1", [0]), entry("q2", [0], ("c", "a", "b")), entry("q3", [2])]
MARKS = [Mark("1", False, 30), Mark("0", True, 20), Mark("", False, 0)]  # chose b, c; q3 unanswered


def test_by_hand_the_chosen_option_becomes_right():
    found = remark(KEY, MARKS, "q1", ["b"])
    assert found is not None
    assert found.key[0].correct == [1] and found.key[1:] == KEY[1:]
    assert [m.is_correct for m in found.marks] == [True, True, False]
    assert [(c.position, c.now_correct) for c in found.changes] == [(0, True)]
    assert (found.correct, found.score_percent) == (2, 66.67)


def test_the_key_in_this_papers_option_order():
    found = remark(KEY, MARKS, "q2", ["a"])  # q2 was shown c, a, b: "a" is position 1
    assert found is not None
    assert found.key[1].correct == [1] and found.marks[1].is_correct is False
    assert found.score_percent == 0.0


def test_nothing_to_do():
    assert remark(KEY, MARKS, "q9", ["a"]) is None  # not in this paper
    assert remark(KEY, MARKS, "q1", ["a"]) is None  # the same key
    unanswered = remark(KEY, MARKS, "q3", ["a"])
    assert unanswered is not None and unanswered.changes == []  # the key moves, the mark stays wrong


def test_an_option_the_paper_never_showed():
    with pytest.raises(OptionsNotInPaper):
        remark(KEY, MARKS, "q1", ["z"])


@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.booleans()), min_size=1, max_size=12), st.integers(0, 2)
)
def test_only_the_corrected_question_moves(rows, new_correct):
    key = [entry(f"q{n}", [right]) for n, (right, _, _) in enumerate(rows)]
    marks = [
        Mark(str(picked) if answered else "", answered and picked == right, 10) for (right, picked, answered) in rows
    ]
    found = remark(key, marks, "q0", ["abc"[new_correct]])
    if found is None:
        assert key[0].correct == [new_correct]
        return
    assert found.key[1:] == key[1:] and found.marks[1:] == marks[1:]
    assert found.marks[0].is_correct == (bool(marks[0].picks) and int(marks[0].picks) == new_correct)
    assert found.correct == sum(m.is_correct for m in found.marks)
