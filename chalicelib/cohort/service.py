"""The cohort's statistics as other domains show them: the counters read (data) turned into what a
learner or an editor sees (rules)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from chalicelib.cohort import data, rules
from chalicelib.cohort.data import PaperStats, QuestionStat, TemplateStat
from chalicelib.cohort.schemas import ItemAnalysisOut, OptionShareOut, QuestionStatsOut, StandingOut
from chalicelib.core import clock
from chalicelib.core.db import TableItem


def stats_out(counts: rules.QuestionCounts, option_ids: Sequence[str]) -> QuestionStatsOut:
    summary = rules.summarise(counts, option_ids)
    return QuestionStatsOut(
        answered=summary.answered,
        percent_correct=summary.percent_correct,
        options=[OptionShareOut(option_id=o.option_id, percent=o.percent) for o in summary.options],
        median_time_sec=summary.median_time_sec,
    )


def stats_of(stat: TableItem | None, option_ids: Sequence[str]) -> QuestionStatsOut:
    """From an item read alongside others (one BatchGetItem with the question)."""
    return stats_out(data.counts_of(stat if isinstance(stat, QuestionStat) else None), option_ids)


def analysis_out(counts: rules.QuestionCounts, correct_ids: Sequence[str]) -> ItemAnalysisOut | None:
    found = rules.analyse(counts, correct_ids)
    if found is None:
        return None
    return ItemAnalysisOut(
        exam_answered=found.exam_answered,
        difficulty=found.difficulty,
        discrimination=found.discrimination,
        distractors=found.distractors,
        flags=found.flags,
    )


def standing(distribution: dict[int, int], score_percent: float) -> StandingOut:
    return StandingOut(percentile=rules.percentile(distribution, score_percent), sat=sum(distribution.values()))


def exam_review_reads(
    session_id: str, template_id: str
) -> tuple[dict[str, rules.QuestionCounts] | None, dict[int, int]]:
    """The statistics of a sitting's questions, as the roll-up kept them when it counted the sitting
    (None until it has: the seconds after the submission), and the template's distribution: one
    BatchGetItem of two items, however long the paper."""
    keys = [data.paper_stats_key(session_id), data.template_stat_key(template_id)]
    counts: dict[str, rules.QuestionCounts] | None = None
    distribution: dict[int, int] = {}
    for item in TableItem.batch_get(keys):
        if isinstance(item, PaperStats):
            counts = data.paper_counts(item)
        elif isinstance(item, TemplateStat):
            distribution = data.distribution_of(item)
    return counts, distribution


# --- the roll-up ---------------------------------------------------------------------------------

UPDATE_WORKERS = 8  # concurrent UpdateItems of one run (botocore's clients are thread-safe)


def roll_up(now: datetime, *, max_runs: int = 20) -> dict[str, int]:
    """Adds the ledger's waiting entries to the statistics, run by run until none waits (at most
    `max_runs`), exactly once (see cohort.data); a run that crashed part way is taken over and
    finished first."""
    now_ms, as_of = int(now.timestamp() * 1000), clock.iso(now)
    done: Counter[str] = Counter()
    for _ in range(max_runs):
        run = data.open_run(now_ms, rules.LEASE_MS, rules.RUN_ENTRIES)
        if run is None:
            break
        done["runs"] += 1
        done["entries"] += len(run.entries)
        done["questions"] += apply_run(run, as_of)
    return dict(done)


def apply_run(run: data.Run, as_of: str) -> int:
    """The run's sums onto each question and template (each refused if this run added it already),
    the sittings' review statistics, then the entries deleted and the run closed."""
    tallies = rules.tally(c for entry in run.entries for c in entry.contributions)
    # Each question is its own conditional UpdateItem, independent of the others: sent a few at a
    # time, a run over a paper's 180 questions takes ~20 round trips rather than 180.
    with ThreadPoolExecutor(max_workers=UPDATE_WORKERS) as pool:
        added = pool.map(lambda q: (q, data.add_rolled(q, tallies[q], run.id)), sorted(tallies))
        now = {question_id: counts for question_id, counts in added if counts is not None}
    scores: dict[str, Counter[int]] = {}
    for entry in run.entries:
        if entry.template_id is not None and entry.score_percent is not None:
            scores.setdefault(entry.template_id, Counter())[rules.score_bin(entry.score_percent)] += 1
    for template_id, bins in sorted(scores.items()):
        data.add_rolled_scores(template_id, bins, run.id)
    for entry in run.entries:
        if entry.sitting is not None:
            _keep_paper_stats(entry, now, as_of)
    data.close_run(run)
    return len(now)


def _keep_paper_stats(entry: data.Ledgered, now: dict[str, rules.QuestionCounts], as_of: str) -> None:
    assert entry.sitting is not None
    unread = [q for q in entry.paper if q not in now]  # unanswered in this run, or added by an earlier try
    counts = {**data.question_counts(unread, consistent=True), **{q: now[q] for q in entry.paper if q in now}}
    data.save_paper_stats(entry.sitting, counts, as_of)


def keep_paper_stats(session_id: str, question_ids: Sequence[str], as_of: str) -> None:
    """A sitting's review statistics read again (after a re-marking moved them)."""
    data.save_paper_stats(session_id, data.question_counts(question_ids, consistent=True), as_of)
