"""Question statistics and exam score distributions, and their keys. See docs/data-model.md,
patterns CO1-CO5.

`QSTAT#<question>` / `STAT`: one item per question, in a partition of its own (its writes never
land on the question's partition). Counters named after what they count, because the names are
data: `pick#<option>`, `time#<bucket>` (every answer), and from exam answers `xpick#<option>`,
`xrest#<option>` plus the declared sums the item analysis needs (cohort.rules).
`TPLSTAT#<template>` / `STAT`: an exam template's score distribution, `score#<whole percent>`.

All writes are additive updates the analytics pipeline puts in the transaction that applies the
answers (and whose claim or watermark makes it happen once)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from chalicelib.cohort.rules import QuestionCounts, QuestionTally, score_bin
from chalicelib.core.db import TableItem, typed

STAT_SK = "STAT"
PICK, TIME, EXAM_PICK, EXAM_REST, SCORE = "pick#", "time#", "xpick#", "xrest#", "score#"


class QuestionStat(TableItem, discriminator="QuestionStat"):
    KEEPS_RAW = True

    question_id = UnicodeAttribute()
    answered = NumberAttribute(default=0)
    correct = NumberAttribute(default=0)
    exam_answered = NumberAttribute(null=True)
    exam_correct = NumberAttribute(null=True)
    rest_sum = NumberAttribute(null=True)
    rest_squares = NumberAttribute(null=True)
    rest_sum_correct = NumberAttribute(null=True)
    last_remark = JSONAttribute(null=True)  # what the newest re-marking run for this question did


class TemplateStat(TableItem, discriminator="TemplateStat"):
    KEEPS_RAW = True

    template_id = UnicodeAttribute()
    sat = NumberAttribute(default=0)


def stat_key(question_id: str) -> tuple[str, str]:
    return f"QSTAT#{question_id}", STAT_SK


def template_stat_key(template_id: str) -> tuple[str, str]:
    return f"TPLSTAT#{template_id}", STAT_SK


# --- writes (actions for the pipeline's transaction) ---------------------------------------------


def _add(name: str, amount: int) -> Action:
    return Path([name]).add(amount)


def question_stat_update(question_id: str, tally: QuestionTally) -> tuple[QuestionStat, list[Action]]:
    """The item and the additive actions that add a tally to it (creating it if new)."""
    pk, sk = stat_key(question_id)
    actions = [
        typed(QuestionStat),
        QuestionStat.question_id.set(question_id),
        QuestionStat.answered.add(tally.answered),
        QuestionStat.correct.add(tally.correct),
    ]
    actions += [_add(f"{PICK}{option}", count) for option, count in sorted(tally.picks.items())]
    actions += [_add(f"{TIME}{bucket}", count) for bucket, count in sorted(tally.times.items())]
    if tally.exam_answered:
        actions += [
            QuestionStat.exam_answered.add(tally.exam_answered),
            QuestionStat.exam_correct.add(tally.exam_correct),
            _add("rest_sum", tally.rest_sum),
            _add("rest_squares", tally.rest_squares),
            _add("rest_sum_correct", tally.rest_sum_correct),
        ]
        actions += [_add(f"{EXAM_PICK}{option}", count) for option, count in sorted(tally.exam_picks.items())]
        actions += [_add(f"{EXAM_REST}{option}", total) for option, total in sorted(tally.rest_sum_by_pick.items())]
    return QuestionStat(pk, sk), actions


def template_score_update(template_id: str, score_percent: float) -> tuple[TemplateStat, list[Action]]:
    pk, sk = template_stat_key(template_id)
    actions = [
        typed(TemplateStat),
        TemplateStat.template_id.set(template_id),
        TemplateStat.sat.add(1),
        _add(f"{SCORE}{score_bin(score_percent)}", 1),
    ]
    return TemplateStat(pk, sk), actions


def correct_moved(question_id: str, delta: int, rest: int) -> tuple[QuestionStat, list[Action]]:
    """A re-marked exam answer (re-marking): right now (+1) or wrong now (-1)."""
    pk, sk = stat_key(question_id)
    actions = [
        QuestionStat.correct.add(delta),
        QuestionStat.exam_correct.add(delta),
        _add("rest_sum_correct", delta * rest),
    ]
    return QuestionStat(pk, sk), actions


def template_score_moved(template_id: str, before: float, after: float) -> tuple[TemplateStat, list[Action]]:
    """A re-marked sitting moves from one score bin to another (no actions when it stays in its bin)."""
    pk, sk = template_stat_key(template_id)
    if score_bin(before) == score_bin(after):
        return TemplateStat(pk, sk), []
    return TemplateStat(pk, sk), [_add(f"{SCORE}{score_bin(before)}", -1), _add(f"{SCORE}{score_bin(after)}", 1)]


def record_remark(question_id: str, summary: dict[str, Any]) -> None:
    """The newest re-marking of the question, shown with its statistics in the editor."""
    pk, sk = stat_key(question_id)
    item = QuestionStat(pk, sk)
    item.update(
        actions=[typed(QuestionStat), QuestionStat.question_id.set(question_id), QuestionStat.last_remark.set(summary)]
    )


# --- reads ---------------------------------------------------------------------------------------


def _number(raw: dict[str, Any], name: str) -> int:
    value = raw.get(name)
    return int(Decimal(value["N"])) if isinstance(value, dict) and "N" in value else 0


def _by_prefix(raw: dict[str, Any], prefix: str) -> dict[str, int]:
    return {name[len(prefix) :]: _number(raw, name) for name in raw if name.startswith(prefix)}


def counts_of(stat: QuestionStat | None) -> QuestionCounts:
    """A stored item's counters (all zero when nobody has answered yet)."""
    if stat is None:
        return QuestionCounts()
    raw = stat.raw
    return QuestionCounts(
        answered=_number(raw, "answered"),
        correct=_number(raw, "correct"),
        picks=_by_prefix(raw, PICK),
        times={int(b): n for b, n in _by_prefix(raw, TIME).items()},
        exam_answered=_number(raw, "exam_answered"),
        exam_correct=_number(raw, "exam_correct"),
        rest_sum=_number(raw, "rest_sum"),
        rest_squares=_number(raw, "rest_squares"),
        rest_sum_correct=_number(raw, "rest_sum_correct"),
        exam_picks=_by_prefix(raw, EXAM_PICK),
        rest_sum_by_pick=_by_prefix(raw, EXAM_REST),
    )


def distribution_of(stat: TemplateStat | None) -> dict[int, int]:
    return {} if stat is None else {int(s): n for s, n in _by_prefix(stat.raw, SCORE).items()}


def question_counts(question_ids: Iterable[str]) -> dict[str, QuestionCounts]:
    """Many questions' counters: BatchGetItem, 100 keys per call (eventually consistent: a
    statistic a second old is as good as a fresh one)."""
    keys = [stat_key(qid) for qid in dict.fromkeys(question_ids)]
    found = QuestionStat.batch_get(keys) if keys else []
    return {s.question_id: counts_of(s) for s in found if isinstance(s, QuestionStat)}
