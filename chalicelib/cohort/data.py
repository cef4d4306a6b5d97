"""Question statistics and exam score distributions, and their keys. See docs/data-model.md,
patterns CO1-CO5.

`QSTAT#<question>` / `STAT`: one item per question, in a partition of its own (its writes never
land on the question's partition). Counters named after what they count, because the names are
data: `pick#<option>`, `time#<bucket>` (every answer), and from exam answers `xpick#<option>`,
`xrest#<option>` plus the declared sums the item analysis needs (cohort.rules).
`TPLSTAT#<template>` / `STAT`: an exam template's score distribution, `score#<whole percent>`.

How answers reach them, exactly once (docs/data-model.md, "The cohort's ledger"): either as additive
updates inside the transaction that applies a learner's answers (its claim or watermark makes it
happen once), or, when that costs more (cohort.rules.by_ledger), as one `LedgerEntry` written in
that transaction and added later by the roll-up: `CLEDGER#<lane>` / `<entry id>`. A roll-up run
(`CROLLUP` / `RUN`: its number, lease and manifest) adds the summed entries to each statistic once,
conditional on the statistic's `rolled` mark being older than the run, then deletes them.
`PAPERSTAT#<exam session>` / `STAT`: the statistics of a sitting's questions as of its roll-up,
which its review reads in one item."""

from __future__ import annotations

import hashlib
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from chalicelib.cohort.rules import Contribution, QuestionCounts, QuestionTally, run_id, score_bin
from chalicelib.core.db import CompressedJSONAttribute, TableItem, delete_items, is_condition_failure, typed

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
    rolled = NumberAttribute(null=True)  # the newest roll-up run added (ledger entries)


class TemplateStat(TableItem, discriminator="TemplateStat"):
    KEEPS_RAW = True

    template_id = UnicodeAttribute()
    sat = NumberAttribute(default=0)
    rolled = NumberAttribute(null=True)


class LedgerEntry(TableItem, discriminator="CohortLedgerEntry"):
    """Answers waiting for the roll-up (written once, by the transaction that applied them)."""

    body = CompressedJSONAttribute()


class RollupRun(TableItem, discriminator="CohortRollupRun"):
    last_run = NumberAttribute(default=0)
    active = NumberAttribute(null=True)  # the run under way, if any
    lease_until = NumberAttribute(null=True)  # epoch ms: after it, another invocation takes the run over
    manifest = CompressedJSONAttribute(null=True)  # the run's entries: [[lane, entry id], ...]


class PaperStats(TableItem, discriminator="CohortPaperStats"):
    as_of = UnicodeAttribute()
    body = CompressedJSONAttribute()  # question id -> [answered, correct, {option: n}, {bucket: n}]


def stat_key(question_id: str) -> tuple[str, str]:
    return f"QSTAT#{question_id}", STAT_SK


def template_stat_key(template_id: str) -> tuple[str, str]:
    return f"TPLSTAT#{template_id}", STAT_SK


def paper_stats_key(session_id: str) -> tuple[str, str]:
    return f"PAPERSTAT#{session_id}", STAT_SK


LEDGER_LANES = 8  # partitions the entries spread over, so that no one partition takes every learner's
RUN_KEY = ("CROLLUP", "RUN")


def _lane(user_id: str) -> str:
    return f"CLEDGER#{zlib.crc32(user_id.encode()) % LEDGER_LANES}"


def _entry_id(name: str) -> str:
    """Deterministic and short (the run's manifest lists them): a hash of what the entry applies."""
    return hashlib.blake2b(name.encode(), digest_size=8).hexdigest()


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


# --- the ledger ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledgered:
    """A ledger entry as the roll-up reads it."""

    key: tuple[str, str]
    contributions: list[Contribution]
    template_id: str | None = None
    score_percent: float | None = None
    sitting: str | None = None  # an exam session: the roll-up keeps its review's statistics
    paper: tuple[str, ...] = ()  # that sitting's questions, answered or not


def ledger_entry(
    user_id: str,
    name: str,
    contributions: Sequence[Contribution],
    *,
    template_id: str | None = None,
    score_percent: float | None = None,
    sitting: str | None = None,
    paper: Sequence[str] = (),
) -> LedgerEntry:
    """The entry a transaction saves. `name` identifies what it applies (a session's answers
    through a sequence number, an exam's chunk): the same answers always make the same entry."""
    answered = {c.question_id for c in contributions}
    body: dict[str, Any] = {
        "a": [[c.question_id, int(c.correct), list(c.selected), c.seconds, c.rest] for c in contributions]
    }
    if template_id is not None:
        body |= {"t": template_id, "s": score_percent}
    if sitting is not None:
        body |= {"x": sitting, "p": [q for q in paper if q not in answered]}  # answered ones are in "a"
    return LedgerEntry(_lane(user_id), _entry_id(name), body=body)


def entry_bytes(entry: LedgerEntry) -> int:
    """Its stored size (what its writes are billed on)."""
    return len(LedgerEntry.body.serialize(entry.body)) + len(entry.PK) + len(entry.SK) + 40


def ledgered(entry: LedgerEntry) -> Ledgered:
    body = entry.body
    contributions = [
        Contribution(str(q), bool(c), tuple(str(o) for o in sel), int(sec), None if rest is None else int(rest))
        for q, c, sel, sec, rest in body["a"]
    ]
    paper: tuple[str, ...] = ()
    if body.get("x"):
        paper = tuple(dict.fromkeys([c.question_id for c in contributions] + [str(q) for q in body.get("p", [])]))
    score = body.get("s")
    return Ledgered(
        (entry.PK, entry.SK),
        contributions,
        template_id=body.get("t"),
        score_percent=None if score is None else float(score),
        sitting=body.get("x"),
        paper=paper,
    )


@dataclass(frozen=True)
class Run:
    id: int
    entries: list[Ledgered]
    resumed: bool


def waiting(limit: int) -> list[Ledgered]:
    """Entries waiting in the lanes: one consistent Query per lane, a share of `limit` each."""
    per_lane = max(1, limit // LEDGER_LANES)
    found: list[Ledgered] = []
    for lane in range(LEDGER_LANES):
        for entry in LedgerEntry.query(f"CLEDGER#{lane}", consistent_read=True, limit=per_lane):
            if isinstance(entry, LedgerEntry):
                found.append(ledgered(entry))
    return found


def _load(keys: list[tuple[str, str]]) -> list[Ledgered]:
    """A resumed run's entries (consistent): those already deleted were added in full before."""
    found = LedgerEntry.batch_get(keys, consistent_read=True) if keys else []
    by_key = {(e.PK, e.SK): ledgered(e) for e in found if isinstance(e, LedgerEntry)}
    return [by_key[key] for key in keys if key in by_key]


def open_run(now_ms: int, lease_ms: int, limit: int) -> Run | None:
    """The run to do now: one whose lease ran out (a crashed invocation's, taken over with the same
    number and entries) or a new one over the waiting entries. None when another invocation holds
    the lease or nothing waits. Taking a run is a conditional write: two invocations never both do."""
    state = _run_state()
    try:
        if state is not None and state.active is not None:
            if int(state.lease_until or 0) > now_ms:
                return None
            state.update(
                actions=[RollupRun.lease_until.set(now_ms + lease_ms)],
                condition=(RollupRun.active == state.active) & (RollupRun.lease_until == state.lease_until),
            )
            keys = [(str(pk), str(sk)) for pk, sk in state.manifest or []]
            return Run(int(state.active), _load(keys), resumed=True)
        entries = waiting(limit)
        if not entries:
            return None
        last = int(state.last_run) if state is not None else 0
        run = run_id(now_ms, last)
        taken = RollupRun.last_run == last if state is not None else RollupRun.PK.does_not_exist()
        RollupRun(*RUN_KEY).update(
            actions=[
                typed(RollupRun),
                RollupRun.last_run.set(last),
                RollupRun.active.set(run),
                RollupRun.lease_until.set(now_ms + lease_ms),
                RollupRun.manifest.set([list(e.key) for e in entries]),
            ],
            condition=RollupRun.active.does_not_exist() & taken,
        )
        return Run(run, entries, resumed=False)
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None  # another invocation took it first
        raise


def _run_state() -> RollupRun | None:
    try:
        return RollupRun.get(*RUN_KEY, consistent_read=True)
    except RollupRun.DoesNotExist:
        return None


def add_rolled(question_id: str, tally: QuestionTally, run: int) -> QuestionCounts | None:
    """A run's additions to one question, once: refused (None) if this run added them already.
    Returns the statistics as they are now (the update's returned image, no read)."""
    stat, actions = question_stat_update(question_id, tally)
    try:
        response = stat.update(
            actions=[*actions, QuestionStat.rolled.set(run)],
            condition=QuestionStat.rolled.does_not_exist() | (QuestionStat.rolled < run),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None
        raise
    stat.raw = response["Attributes"]
    return counts_of(stat)


def add_rolled_scores(template_id: str, bins: Counter[int], run: int) -> None:
    """A run's sittings added to a template's score distribution, once."""
    pk, sk = template_stat_key(template_id)
    actions = [typed(TemplateStat), TemplateStat.template_id.set(template_id), TemplateStat.sat.add(bins.total())]
    actions += [_add(f"{SCORE}{score}", n) for score, n in sorted(bins.items())]
    try:
        TemplateStat(pk, sk).update(
            actions=[*actions, TemplateStat.rolled.set(run)],
            condition=TemplateStat.rolled.does_not_exist() | (TemplateStat.rolled < run),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def close_run(run: Run) -> None:
    """The run's entries are gone and the next run may start (a late duplicate close does nothing)."""
    delete_items([LedgerEntry(pk, sk) for pk, sk in (e.key for e in run.entries)])
    try:
        RollupRun(*RUN_KEY).update(
            actions=[
                RollupRun.last_run.set(run.id),
                RollupRun.active.remove(),
                RollupRun.lease_until.remove(),
                RollupRun.manifest.remove(),
            ],
            condition=RollupRun.active == run.id,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def save_paper_stats(session_id: str, counts: dict[str, QuestionCounts], as_of: str) -> None:
    """A sitting's questions' statistics for its review (rewritten whole: idempotent)."""
    body = {
        q: [c.answered, c.correct, dict(c.picks), {str(b): n for b, n in c.times.items()}] for q, c in counts.items()
    }
    PaperStats(*paper_stats_key(session_id), as_of=as_of, body=body).save()


def paper_stats_ref(session_id: str) -> PaperStats:
    """A keys-only handle (to delete with the learner's account)."""
    return PaperStats(*paper_stats_key(session_id))


def paper_counts(stats: PaperStats) -> dict[str, QuestionCounts]:
    return {
        q: QuestionCounts(
            answered=int(answered),
            correct=int(correct),
            picks={str(o): int(n) for o, n in picks.items()},
            times={int(b): int(n) for b, n in times.items()},
        )
        for q, (answered, correct, picks, times) in stats.body.items()
    }


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


def question_counts(question_ids: Iterable[str], *, consistent: bool = False) -> dict[str, QuestionCounts]:
    """Many questions' counters: BatchGetItem, 100 keys per call (eventually consistent unless
    asked: a statistic a second old is as good as a fresh one, but not right after moving it)."""
    keys = [stat_key(qid) for qid in dict.fromkeys(question_ids)]
    found = QuestionStat.batch_get(keys, consistent_read=consistent) if keys else []
    return {s.question_id: counts_of(s) for s in found if isinstance(s, QuestionStat)}
