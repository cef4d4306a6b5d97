"""Question reports and their keys. See docs/data-model.md, patterns QR1-QR5.

`QREPORT#<question>` / `R#<report>`: a report. `QREPORT#<question>` / `OPEN#<user>`: the learner's
open report on that question (one at a time: created with the report, removed when it is closed).
`QREPORT#<question>` / `SUMMARY`: the question's open-report count. Indexes: GSI1
`REPORTS#<status>` / `<created>#<report>` (newest first per status); GSI2 `REPORTS#MOST#open` /
`<open count, 6 digits>#<question>` (most reported first, questions with open reports only)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.core.db import TableItem, user_pk
from chalicelib.core.pagination import collect, decode_cursor

SUMMARY_SK = "SUMMARY"
ERASED = "erased"  # the reporter of a report whose author erased their account
ITEM_ANALYSIS = "item-analysis"  # the reporter of flags raised by the nightly item analysis


def report_pk(question_id: str) -> str:
    return f"QREPORT#{question_id}"


class QuestionReport(TableItem, discriminator="QuestionReport"):
    report_id = UnicodeAttribute()
    question_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    comment = UnicodeAttribute(default="")
    question_excerpt = UnicodeAttribute(default="")  # the stem's start when reported: the queue reads no question
    status = UnicodeAttribute()  # open | resolved | rejected
    created_at = UnicodeAttribute()
    closed_at = UnicodeAttribute(null=True)
    closed_by = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = f"REPORTS#{self.status}", f"{self.created_at}#{self.report_id}"


class OpenReportClaim(TableItem, discriminator="OpenReportClaim"):
    report_id = UnicodeAttribute()


class ReportPointer(TableItem, discriminator="ReportPointer"):
    """In the reporter's partition: what their export includes and their erasure anonymises."""

    question_id = UnicodeAttribute()
    report_id = UnicodeAttribute()


class AnalysisFlag(TableItem, discriminator="AnalysisFlag"):
    """The item analysis flagged this version of the question once (kept when the report closes,
    so a rejected flag is not raised again every night; an edit makes a new version)."""

    report_id = UnicodeAttribute()


def analysis_flag(question_id: str, version: int, report_id: str) -> AnalysisFlag:
    return AnalysisFlag(PK=report_pk(question_id), SK=f"FLAG#v{version:06d}", report_id=report_id)


class ReportSummary(TableItem, discriminator="ReportSummary"):
    question_id = UnicodeAttribute()
    open_count = NumberAttribute(default=0)


def new_report(question_id: str, report_id: str, **fields: Any) -> QuestionReport:
    report = QuestionReport(
        PK=report_pk(question_id), SK=f"R#{report_id}", report_id=report_id, question_id=question_id, **fields
    )
    report.index()
    return report


def claim(question_id: str, user_id: str, report_id: str) -> OpenReportClaim:
    return OpenReportClaim(PK=report_pk(question_id), SK=f"OPEN#{user_id}", report_id=report_id)


def pointer(user_id: str, question_id: str, report_id: str) -> ReportPointer:
    return ReportPointer(
        PK=user_pk(user_id), SK=f"QREPORT#{question_id}#{report_id}", question_id=question_id, report_id=report_id
    )


def reports_of(pointers: list[ReportPointer]) -> list[QuestionReport]:
    keys = [(report_pk(p.question_id), f"R#{p.report_id}") for p in pointers]
    return list(QuestionReport.batch_get(keys, consistent_read=True)) if keys else []


def anonymise(report: QuestionReport) -> None:
    """The report stays (it is about the question) without who wrote it or their words; their open
    claim goes."""
    author = report.user_id
    OpenReportClaim(PK=report_pk(report.question_id), SK=f"OPEN#{author}").delete()
    report.update(actions=[QuestionReport.user_id.set(ERASED), QuestionReport.comment.set("")])


def get_summary(question_id: str) -> ReportSummary | None:
    try:
        return ReportSummary.get(report_pk(question_id), SUMMARY_SK, consistent_read=True)
    except DoesNotExist:
        return None


def get_report(question_id: str, report_id: str) -> QuestionReport | None:
    try:
        return QuestionReport.get(report_pk(question_id), f"R#{report_id}", consistent_read=True)
    except DoesNotExist:
        return None


def add_count_change(tx: TransactWrite, question_id: str, read_count: int | None, delta: int) -> None:
    """The question's open count moves from the value read (conditioned on it: a racing report
    makes this transaction fail and the caller retry), and its place in the most-reported index."""
    count = (read_count or 0) + delta
    summary = ReportSummary(PK=report_pk(question_id), SK=SUMMARY_SK, question_id=question_id, open_count=count)
    if count > 0:
        summary.GSI2PK, summary.GSI2SK = "REPORTS#MOST#open", f"{count:06d}#{question_id}"
    condition = ReportSummary.PK.does_not_exist() if read_count is None else ReportSummary.open_count == read_count
    tx.save(summary, condition=condition)


def reports_page(status: str, limit: int, cursor: str | None) -> tuple[list[QuestionReport], str | None]:
    """Reports of a status, newest first: one Query of GSI1."""
    scope = f"reports:{status}"
    results = QuestionReport.gsi1.query(
        f"REPORTS#{status}", scan_index_forward=False, limit=limit, last_evaluated_key=decode_cursor(cursor, scope)
    )
    items, next_cursor = collect(results, scope)
    return [r for r in items if isinstance(r, QuestionReport)], next_cursor


def most_reported(limit: int, cursor: str | None) -> tuple[list[ReportSummary], str | None]:
    """Questions with open reports, most reported first: one Query of GSI2."""
    scope = "reports:most"
    results = ReportSummary.gsi2.query(
        "REPORTS#MOST#open", scan_index_forward=False, limit=limit, last_evaluated_key=decode_cursor(cursor, scope)
    )
    items, next_cursor = collect(results, scope)
    return [s for s in items if isinstance(s, ReportSummary)], next_cursor
