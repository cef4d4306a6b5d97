"""Learners report what is wrong with a question they have answered; editors resolve or reject each
report with a note the reporter is told. One open report per learner and question (a claim item
written with the report), rate-limited; counts per question kept in the same transactions."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from chalicelib.audit.data import Change, audited_transaction
from chalicelib.cohort import data as cohort_data
from chalicelib.cohort import rules as cohort_rules
from chalicelib.core import clock
from chalicelib.core.db import TableItem, cancelled_positions, is_condition_failure, transaction
from chalicelib.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from chalicelib.core.security import Principal
from chalicelib.limits import service as limits
from chalicelib.notifications import service as notifications
from chalicelib.questions import data as questions
from chalicelib.questions.data import Question
from chalicelib.reports import data
from chalicelib.reports.data import AnalysisFlag, OpenReportClaim, QuestionReport, ReportPointer
from chalicelib.reports.schemas import ReportClose, ReportedQuestion, ReportIn, ReportOut, ReportQuery, ReportQueue
from chalicelib.review import data as review_data

ATTEMPTS = 5
EXCERPT_CHARS = 120
REASONS = {
    "wrong_key": "the marked answer is wrong",
    "unclear": "the question is unclear",
    "outdated": "the question is out of date",
    "typo": "a typo",
    "other": "another problem",
}


class _CountMoved(Exception):
    """Another report of the same question changed its count first: read it again."""


def to_out(report: QuestionReport) -> ReportOut:
    return ReportOut(
        id=report.report_id,
        question_id=report.question_id,
        question_excerpt=report.question_excerpt,
        reason=report.reason,
        comment=report.comment,
        status=report.status,
        created_at=report.created_at,
        closed_at=report.closed_at,
        note=report.note,
        raised_by="item_analysis" if report.user_id == data.ITEM_ANALYSIS else "learner",
    )


def create(principal: Principal, question_id: str, request: ReportIn) -> ReportOut:
    question = questions.get_question(question_id)
    if question is None or question.status != "published":
        raise NotFound("No such question.")
    if review_data.get_card(principal.user_id, question_id) is None:
        raise Forbidden("Answer this question before reporting a problem with it.")
    limits.consume(limits.limit("question-reports"), principal.user_id, "Too many reports in an hour; try later.")
    for _ in range(ATTEMPTS):
        summary = data.get_summary(question_id)
        read = int(summary.open_count) if summary else None
        report = data.new_report(
            question_id,
            clock.new_id(),
            user_id=principal.user_id,
            reason=request.reason,
            comment=request.comment,
            question_excerpt=question.stem[:EXCERPT_CHARS],
            status="open",
            created_at=clock.iso_ms(clock.now()),
        )
        try:
            with transaction() as tx:
                tx.save(report, condition=QuestionReport.PK.does_not_exist())
                tx.save(
                    data.claim(question_id, principal.user_id, report.report_id),
                    condition=OpenReportClaim.PK.does_not_exist(),
                )
                data.add_count_change(tx, question_id, read, +1)
                tx.save(data.pointer(principal.user_id, question_id, report.report_id))
        except TransactWriteError as exc:
            failed = cancelled_positions(exc) if is_condition_failure(exc) else []
            if 1 in failed:
                raise Conflict("You already have an open report on this question.") from exc
            if 2 in failed:
                continue
            raise
        return to_out(report)
    raise Conflict("The question's reports kept changing; try again.")


def close(actor: Principal, question_id: str, report_id: str, request: ReportClose) -> ReportOut:
    """Resolve or reject an open report; the reporter is told, in the same transaction."""
    for _ in range(ATTEMPTS):
        report = data.get_report(question_id, report_id)
        if report is None:
            raise NotFound("No such report.")
        if report.status != "open":
            raise Conflict(f"This report is already {report.status}.")
        summary = data.get_summary(question_id)
        read = int(summary.open_count) if summary else 0
        before = to_out(report).model_dump(mode="json")
        now = clock.iso_ms(clock.now())
        report.status, report.note, report.closed_at, report.closed_by = (
            request.status,
            request.note,
            now,
            actor.user_id,
        )
        report.index()
        after = to_out(report).model_dump(mode="json")
        change = Change(actor.user_id, f"question_report.{request.status}", "question_report", report_id, before, after)
        refusals = {0: Conflict("The report was closed meanwhile."), 2: _CountMoved()}
        try:
            with audited_transaction(change, refusals=refusals) as tx:
                tx.save(report, condition=QuestionReport.status == "open")
                tx.delete(data.claim(question_id, report.user_id, report_id))
                data.add_count_change(tx, question_id, read, -1)
                if report.user_id not in (data.ERASED, data.ITEM_ANALYSIS):  # nobody to tell
                    title, body = _told(report, request)
                    link = f"/questions/{question_id}"
                    notifications.add_personal(
                        tx, report.user_id, clock.new_id(), "report_closed", title, body, link, now
                    )
        except _CountMoved:
            continue
        return to_out(report)
    raise Conflict("The question's reports kept changing; try again.")


def _told(report: QuestionReport, request: ReportClose) -> tuple[str, str]:
    outcome = "fixed" if request.status == "resolved" else "reviewed and left as it is"
    title = f"Your report on a question was {outcome}"
    body = f"You reported {REASONS.get(report.reason, 'a problem')}. The editors' note: {request.note}"
    return title, body


def queue(query: ReportQuery) -> ReportQueue:
    if query.sort == "most_reported":
        if query.status != "open":
            raise Unprocessable(
                "Most reported lists open reports only.",
                details=[{"field": "sort", "message": "use status=open", "type": "invalid"}],
            )
        summaries, cursor = data.most_reported(query.limit, query.cursor)
        counted = [ReportedQuestion(question_id=s.question_id, open_reports=int(s.open_count)) for s in summaries]
        return ReportQueue(questions=counted, next_cursor=cursor)
    reports, cursor = data.reports_page(query.status, query.limit, query.cursor)
    return ReportQueue(reports=[to_out(r) for r in reports], next_cursor=cursor)


def reports_for_export(own: list[TableItem]) -> list[TableItem]:
    """The reports a user wrote, found through the pointers in their partition."""
    return list(data.reports_of([item for item in own if isinstance(item, ReportPointer)]))


def forget_reporter(own: list[TableItem]) -> int:
    """Erasure: each report the user wrote loses its author and comment (idempotent)."""
    reports = data.reports_of([item for item in own if isinstance(item, ReportPointer)])
    for found in reports:
        if found.user_id != data.ERASED:
            data.anonymise(found)
    return len(reports)


# --- flags raised by the item analysis -------------------------------------------------------------

ANALYSIS_PAGE = 100  # questions per BatchGetItem of their statistics
FLAG_REASONS = {"negative_discrimination": "wrong_key", "distractor_attracts_strong": "wrong_key"}


def flag_by_item_analysis() -> dict[str, int]:
    """The nightly job: every published question's item analysis (from the statistics the pipeline
    keeps), and a report in the editors' queue for each flagged version not flagged before."""
    checked = analysed = flagged = 0
    page: list[Question] = []
    for question in questions.questions_in("published"):
        page.append(question)
        if len(page) == ANALYSIS_PAGE:
            found = _analyse_page(page)
            checked, analysed, flagged = checked + len(page), analysed + found[0], flagged + found[1]
            page = []
    if page:
        found = _analyse_page(page)
        checked, analysed, flagged = checked + len(page), analysed + found[0], flagged + found[1]
    return {"checked": checked, "analysed": analysed, "flagged": flagged}


def _analyse_page(page: list[Question]) -> tuple[int, int]:
    counts = cohort_data.question_counts(q.question_id for q in page)
    analysed = flagged = 0
    for question in page:
        correct = [o.id for o in question.options if o.is_correct]
        analysis = cohort_rules.analyse(counts.get(question.question_id, cohort_rules.QuestionCounts()), correct)
        if analysis is None:
            continue
        analysed += 1
        if analysis.flags and _raise_flag(question, analysis):
            flagged += 1
    return analysed, flagged


def describe(analysis: cohort_rules.ItemAnalysis) -> str:
    """The figures an editor needs to judge the flag."""
    parts = [
        f"Item analysis of {analysis.exam_answered} exam answers: difficulty {analysis.difficulty:.2f}",
        f"discrimination {'n/a' if analysis.discrimination is None else f'{analysis.discrimination:.2f}'}",
    ]
    strong = [f"{option} ({r:+.2f})" for option, r in analysis.distractors.items() if r > 0]
    if strong:
        parts.append("wrong options chosen by stronger learners: " + ", ".join(strong))
    return "; ".join(parts) + ". Flags: " + ", ".join(analysis.flags) + "."


def _raise_flag(question: Question, analysis: cohort_rules.ItemAnalysis) -> bool:
    """One report per flagged question version (the flag marker's condition); False if raised before."""
    version = int(question.version or 1)
    for _ in range(ATTEMPTS):
        summary = data.get_summary(question.question_id)
        read = int(summary.open_count) if summary else None
        report = data.new_report(
            question.question_id,
            clock.new_id(),
            user_id=data.ITEM_ANALYSIS,
            reason=next((FLAG_REASONS[f] for f in analysis.flags if f in FLAG_REASONS), "unclear"),
            comment=describe(analysis),
            question_excerpt=question.stem[:EXCERPT_CHARS],
            status="open",
            created_at=clock.iso_ms(clock.now()),
        )
        flag = data.analysis_flag(question.question_id, version, report.report_id)
        try:
            with transaction() as tx:
                tx.save(flag, condition=AnalysisFlag.PK.does_not_exist())
                tx.save(report, condition=QuestionReport.PK.does_not_exist())
                data.add_count_change(tx, question.question_id, read, +1)
        except TransactWriteError as exc:
            failed = cancelled_positions(exc) if is_condition_failure(exc) else []
            if 0 in failed:
                return False  # this version was flagged before (open, resolved or rejected)
            if 2 in failed:
                continue
            raise
        return True
    raise Conflict("The question's reports kept changing; the next run flags it.")
