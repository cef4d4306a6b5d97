"""The cohort's statistics as other domains show them: the counters read (data) turned into what a
learner or an editor sees (rules)."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.cohort import data, rules
from chalicelib.cohort.data import QuestionStat, TemplateStat
from chalicelib.cohort.schemas import ItemAnalysisOut, OptionShareOut, QuestionStatsOut, StandingOut
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
    question_ids: Sequence[str], template_id: str
) -> tuple[dict[str, rules.QuestionCounts], dict[int, int]]:
    """The statistics of a paper's questions and its template's distribution, in one BatchGetItem
    (two calls above 99 questions: 100 keys per call)."""
    keys = [data.stat_key(q) for q in dict.fromkeys(question_ids)] + [data.template_stat_key(template_id)]
    counts: dict[str, rules.QuestionCounts] = {}
    distribution: dict[int, int] = {}
    for item in TableItem.batch_get(keys):
        if isinstance(item, QuestionStat):
            counts[item.question_id] = data.counts_of(item)
        elif isinstance(item, TemplateStat):
            distribution = data.distribution_of(item)
    return counts, distribution
