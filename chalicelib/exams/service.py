"""Exam rules: the server keeps the clock, answers stay hidden until the one submission, and a
session past its deadline is submitted as it stood."""

from __future__ import annotations

import contextlib
import random
import secrets
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.accounts import data as accounts
from chalicelib.accounts.data import UserItem
from chalicelib.audit.data import Change, audited_transaction, event_for
from chalicelib.billing import service as billing
from chalicelib.cohort import service as cohort
from chalicelib.cohort.rules import QuestionCounts
from chalicelib.core import clock
from chalicelib.core.cache import TtlCache
from chalicelib.core.config import get_settings
from chalicelib.core.db import is_condition_failure, transaction
from chalicelib.core.errors import field_error
from chalicelib.core.pagination import Page
from chalicelib.core.security import Principal, is_staff, require_verified_email
from chalicelib.core.timeutil import parse
from chalicelib.exams import data, rules
from chalicelib.exams.data import ExamPart, ExamSession, ExamSheet, ExamTemplate
from chalicelib.exams.schemas import (
    AnswersIn,
    CategoryBreakdown,
    HistoryItem,
    Result,
    Review,
    ReviewAttempt,
    SavedAnswer,
    SaveResult,
    SessionOut,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
    TemplateStaffOut,
)
from chalicelib.limits import service as limits
from chalicelib.notifications import service as notifications
from chalicelib.questions import data as questions
from chalicelib.questions.data import Question
from chalicelib.questions.rules import selection_problem
from chalicelib.questions.schemas import OptionPublic, QuestionPublic
from chalicelib.questions.service import correct_option_ids, to_public
from chalicelib.taxonomy import data as taxonomy_data
from chalicelib.taxonomy import service as taxonomy

SUBMIT_TRIES = 3


# --- templates -----------------------------------------------------------------------------------


def template_out(template: ExamTemplate, *, staff: bool) -> TemplateOut:
    fields = {
        "id": template.template_id,
        "name": template.name,
        "paper": template.paper,
        "duration_minutes": int(template.duration_minutes),
        "total_questions": int(template.total_questions),
        "description": template.description,
        "pass_mark_percent": float(template.pass_mark_percent),
    }
    if not staff:
        return TemplateOut(**fields)
    return TemplateStaffOut(
        **fields,
        status=template.status,
        shuffle_questions=bool(template.shuffle_questions),
        shuffle_options=bool(template.shuffle_options),
        blueprint={k: int(v) for k, v in template.blueprint.items()} if template.blueprint else None,
        question_ids=list(template.question_ids) if template.question_ids else None,
    )


_BLUEPRINT_TTL_SEC = 300
_blueprints: TtlCache[dict[str, int]] = TtlCache("exam-blueprints", _BLUEPRINT_TTL_SEC)


def blueprint_counts() -> dict[str, int]:
    """Questions per category over every active blueprint template: how the exam weighs the
    syllabus (the plan to exam day and the suggested topics follow it). One Query, cached five
    minutes per container."""

    def load() -> dict[str, int]:
        counts: dict[str, int] = {}
        for template in data.templates():
            if template.status == "active" and template.blueprint:
                for slug, count in dict(template.blueprint).items():
                    counts[slug] = counts.get(slug, 0) + int(count)
        return counts

    return dict(_blueprints.get_or_load("all", load))


def list_templates(principal: Principal | None) -> list[TemplateOut]:
    staff = is_staff(principal)
    found = [t for t in data.templates() if staff or t.status == "active"]
    return [template_out(t, staff=staff) for t in sorted(found, key=lambda t: (t.paper, t.name))]


def _check_fillable(request: TemplateIn) -> None:
    if request.question_ids is not None:
        found = questions.get_questions(request.question_ids)
        missing = [qid for qid in request.question_ids if qid not in found or found[qid].status != "published"]
        if missing:
            raise field_error("question_ids", f"Not published questions: {', '.join(missing[:10])}.", "unpublished")
        return
    categories, _ = taxonomy_data.all_nodes()
    available = {c.slug: int(c.published_count) for c in categories if c.status == "active"}
    for slug, count in (request.blueprint or {}).items():
        if available.get(slug, 0) < count:
            raise field_error(
                f"blueprint.{slug}",
                f"Only {available.get(slug, 0)} published questions in {slug}.",
                "not_enough_questions",
            )


def create_template(actor: Principal, request: TemplateIn) -> TemplateOut:
    _check_fillable(request)
    template_id = clock.new_id()
    template = data.new_template(
        template_id,
        name=request.name,
        paper=request.paper,
        duration_minutes=request.duration_minutes,
        total_questions=request.total_questions,
        description=request.description,
        pass_mark_percent=request.pass_mark_percent,
        question_ids=request.question_ids,
        blueprint=request.blueprint,
        shuffle_questions=request.shuffle_questions,
        shuffle_options=request.shuffle_options,
    )
    out = template_out(template, staff=True)
    change = Change(
        actor.user_id, "exam_template.created", "exam_template", template_id, after=out.model_dump(mode="json")
    )
    with audited_transaction(change) as tx:
        tx.save(template)
    _blueprints.invalidate("all")  # this container sees its own change at once (others within 5 min)
    return out


def _template(template_id: str) -> ExamTemplate:
    template = data.get_template(template_id)
    if template is None:
        raise rules.ExamNotFound("No such exam template.")
    return template


def update_template(actor: Principal, template_id: str, patch: TemplatePatch) -> TemplateOut:
    template = _template(template_id)
    before = template_out(template, staff=True).model_dump(mode="json")
    changes = {name: value for name, value in patch.changes().items() if before.get(name) != value}
    if not changes:
        return template_out(template, staff=True)  # nothing changes: no write, no audit event
    change = Change(
        actor.user_id, "exam_template.updated", "exam_template", template_id, before=before, after={**before, **changes}
    )
    changed = rules.TemplateChanged("The template changed meanwhile; reload and retry.")
    with audited_transaction(change, otherwise=changed) as tx:
        tx.update(template, actions=[getattr(ExamTemplate, n).set(v) for n, v in changes.items()])  # version-checked
    for name, value in changes.items():
        setattr(template, name, value)
    _blueprints.invalidate("all")
    return template_out(template, staff=True)


def delete_template(actor: Principal, template_id: str) -> None:
    template = _template(template_id)
    in_use = rules.TemplateInUse("This template has been sat; retire it instead of deleting it.")
    if int(template.session_count):
        raise in_use
    before = template_out(template, staff=True).model_dump(mode="json")
    change = Change(actor.user_id, "exam_template.deleted", "exam_template", template_id, before=before)
    with audited_transaction(change, otherwise=in_use) as tx:
        tx.delete(template, condition=ExamTemplate.session_count == 0)
    _blueprints.invalidate("all")


def set_extra_time(actor: Principal, user_id: str, percent: int) -> int:
    user = accounts.get_user(user_id)
    if user is None:
        raise rules.UserNotFound("No such user.")
    change = Change(
        actor.user_id,
        "user.extra_time_changed",
        "user",
        user_id,
        before={"extra_time_percent": int(user.extra_time_percent)},
        after={"extra_time_percent": percent},
    )
    with audited_transaction(change, otherwise=rules.UserChanged("The account changed meanwhile; retry.")) as tx:
        tx.update(user, actions=[UserItem.extra_time_percent.set(percent)])  # version-checked
        if percent > int(user.extra_time_percent):  # granted or extended: the learner hears of it
            notifications.add_personal(
                tx,
                user_id,
                clock.new_id(),
                "account",
                "Extra exam time granted",
                f"Your mock exams now allow {percent}% extra time.",
                "/exams",
                clock.iso_ms(clock.now()),
            )
    return percent


# --- starting ------------------------------------------------------------------------------------


def _draw(template: ExamTemplate, rng: random.Random) -> list[Question]:
    if template.question_ids:
        drawn = questions.get_published(list(template.question_ids))  # BatchGetItem: 100 keys per call
        if len(drawn) < int(template.total_questions):
            raise rules.PaperNotFillable("Some questions of this paper were withdrawn; an examiner must update it.")
    else:
        chosen: list[str] = []
        for slug, count in sorted(dict(template.blueprint or {}).items()):  # one small Query per category
            pool = questions.published_ids(slug)
            if len(pool) < int(count):
                raise rules.PaperNotFillable(f"Not enough published questions in {slug} for this blueprint.")
            chosen += rng.sample(pool, int(count))
        drawn = questions.get_published(chosen)  # only the drawn questions are read
        if len(drawn) < len(chosen):
            raise rules.PaperNotFillable("Questions were withdrawn while the paper was drawn; please retry.")
    if template.shuffle_questions:
        rng.shuffle(drawn)
    return drawn


def start_session(principal: Principal, template_id: str) -> SessionOut:
    require_verified_email(principal)  # practice stays open to unverified accounts; exams do not
    limits.consume(limits.limit("exam-starts"), principal.user_id, "Too many exams started; try later.")
    template = data.get_template(template_id)
    if template is None or template.status != "active":
        raise rules.ExamNotFound("No such active exam template.")
    if int(template.total_questions) > get_settings().quick_mock_max_questions:
        billing.require_feature(principal, "full_papers")  # the free plan sits quick mocks only
    user = accounts.get_user(principal.user_id)
    rng = random.Random(secrets.randbits(64))  # noqa: S311 (fairness, not secrecy)
    drawn = _draw(template, rng)
    orders = {}
    for question in drawn:
        option_ids = [o.id for o in question.options]
        if template.shuffle_options:
            rng.shuffle(option_ids)
        orders[question.question_id] = option_ids
    now = clock.now()
    deadline = rules.deadline(now, int(template.duration_minutes), int(user.extra_time_percent) if user else 0)
    session_id = clock.new_id()
    view = [_public(q, orders[q.question_id]).model_dump(mode="json") for q in drawn]
    parts = _paper_parts(session_id, drawn, orders, view)
    session = data.new_session(
        principal.user_id,
        session_id,
        template_id=template.template_id,
        template_name=template.name,
        pass_mark_percent=template.pass_mark_percent,
        question_count=len(drawn),
        parts={kind: len(items) for kind, items in parts.items()},
        timezone=user.timezone if user else "UTC",
        started_at=clock.iso(now),
        deadline_at=clock.iso(deadline),
        status="in_progress",
    )
    accepts_until = deadline + timedelta(seconds=rules.GRACE_SEC)
    live = data.live_exam(
        principal.user_id,
        session_id,
        [q.question_id for q in drawn],
        clock.iso(accepts_until),
        expires_at=int(accepts_until.timestamp()) + 86400,
    )
    # The paper first, outside the transaction (its size would double its cost there): nothing
    # reaches it until the session below exists; a crash in between leaves an unreachable paper.
    with ExamPart.batch_write() as batch:
        for item in (i for items in parts.values() for i in items):
            batch.save(item)
    with transaction() as tx:
        tx.save(session, condition=ExamSession.PK.does_not_exist())
        tx.save(data.new_sheet(session_id, session.deadline_at))
        tx.save(data.due_marker(principal.user_id, session_id, session.deadline_at))
        tx.save(live)
        tx.update(template, actions=[ExamTemplate.session_count.add(1)], add_version_condition=False)
        tx.save(event_for(Change(principal.user_id, "exam.started", "exam_session", session_id)))
    return _session_out(session, view, None)


def _paper_parts(
    session_id: str, drawn: list[Question], orders: dict[str, list[str]], view: list[dict[str, Any]]
) -> dict[str, list[ExamPart]]:
    """What the exam keeps of its questions, fixed at start: an edit made meanwhile changes nothing."""
    key = [
        rules.KeyEntry(
            q.question_id,
            q.category,
            q.subcategory,
            q.question_type,
            orders[q.question_id],
            sorted(orders[q.question_id].index(o) for o in correct_option_ids(q)),
        ).as_json()
        for q in drawn
    ]
    return {
        data.VIEW: data.part_items(session_id, data.VIEW, view),
        data.KEY: data.part_items(session_id, data.KEY, key),
        data.NOTES: data.part_items(session_id, data.NOTES, [q.explanation for q in drawn]),
    }


def _public(question: Question, order: list[str]) -> Any:
    view = to_public(question)
    by_id = {o.id: o for o in view.options}
    return view.model_copy(update={"options": [OptionPublic(id=i, text=by_id[i].text) for i in order if i in by_id]})


def _session_out(session: ExamSession, view: list[dict[str, Any]], sheet: ExamSheet | None) -> SessionOut:
    in_progress = session.status == "in_progress"
    saved = data.saved_answers(sheet) if sheet is not None else {}
    answers = []
    for position, answer in sorted(saved.items()):
        option_ids = [o["id"] for o in view[position]["options"]]
        answers.append(
            SavedAnswer(
                question_id=view[position]["id"],
                selected_option_ids=rules.decode_picks(option_ids, answer.picks),
                time_spent_sec=answer.time_spent_sec,
                flagged=answer.flagged,
            )
        )
    return SessionOut(
        id=session.session_id,
        template={"id": session.template_id, "name": session.template_name},
        status=session.status,
        started_at=session.started_at,
        deadline_at=session.deadline_at,
        remaining_sec=rules.remaining_sec(clock.now(), parse(session.deadline_at)) if in_progress else 0,
        questions=[QuestionPublic.model_validate(q) for q in view],
        answers=answers,
    )


# --- during the exam -----------------------------------------------------------------------------


def _overdue(session: ExamSession) -> bool:
    return session.status == "in_progress" and not rules.accepts_answers(clock.now(), parse(session.deadline_at))


def _load(principal: Principal, session_id: str, *, consistent: bool = True) -> ExamSession:
    """The learner's own session, submitted first if its time ran out while nobody was looking."""
    session = data.get_session(principal.user_id, session_id, consistent=consistent)
    if session is None:
        raise rules.ExamNotFound("No such exam session.")
    if not _overdue(session):
        return session
    with contextlib.suppress(rules.AlreadySubmitted):  # a concurrent request submitted it first
        _submit(session, by="deadline")
    return data.get_session(principal.user_id, session_id) or session


def _parts(session: ExamSession, kinds: list[str], *, results: bool = False) -> data.Parts:
    found = data.read_parts(session.session_id, kinds, dict(session.parts), results=results)
    if found is None:
        raise rules.ExamNotFound("This exam's paper is no longer available.")
    return found


def _key(session: ExamSession) -> list[rules.KeyEntry]:
    return [rules.KeyEntry.from_json(raw) for raw in _parts(session, [data.KEY]).part(data.KEY)]


def get_session(principal: Principal, session_id: str) -> SessionOut:
    session = _load(principal, session_id)
    sheet = data.get_sheet(session_id)
    return _session_out(session, _parts(session, [data.VIEW]).part(data.VIEW), sheet)


def save_answers(principal: Principal, session_id: str, request: AnswersIn) -> SaveResult:
    limits.consume(limits.limit("answers"), principal.user_id, "Too many answers in a short time; slow down.")
    # The paper never changes after start, so eventually consistent reads validate the answers;
    # the status and deadline are checked atomically on the sheet by the write's condition.
    session = _load(principal, session_id, consistent=False)
    if session.status != "in_progress":
        raise rules.AlreadySubmitted("This exam has been submitted; answers can no longer change.")
    key = _key(session)
    position_of = {entry.question_id: position for position, entry in enumerate(key)}
    actions: list[Action] = []
    seen: set[str] = set()
    for index, answer in enumerate(request.answers):
        field = f"answers.{index}"
        position = position_of.get(answer.question_id)
        if position is None:
            raise field_error(f"{field}.question_id", "This question is not part of the exam.", "not_in_session")
        _check_answer(key[position], answer.selected_option_ids, field, seen)
        picks = rules.encode_picks(key[position].option_ids, answer.selected_option_ids)
        actions += data.answer_actions(position, picks, answer.time_spent_sec, answer.flagged)
    now = clock.now()
    cutoff = clock.iso(now - timedelta(seconds=rules.GRACE_SEC))
    try:
        # One write of the small sheet whatever the number of answers; bumping the version makes a
        # submit that read older answers score again instead of missing these.
        data.sheet_ref(session_id).update(
            actions=[ExamSheet.version.add(1), *actions],
            condition=(ExamSheet.status == "in_progress") & (ExamSheet.deadline_at >= cutoff),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise rules.TimeUp("Time is up or the exam was submitted; answers can no longer change.") from exc
        raise
    return SaveResult(saved=len(request.answers), remaining_sec=rules.remaining_sec(now, parse(session.deadline_at)))


def _check_answer(entry: rules.KeyEntry, selected: list[str], field: str, seen: set[str]) -> None:
    if entry.question_id in seen:
        raise field_error(f"{field}.question_id", "Each question may appear once per save.", "duplicate")
    seen.add(entry.question_id)
    problem = selection_problem(entry.option_ids, entry.question_type, selected)
    if problem is not None:
        raise field_error(f"{field}.selected_option_ids", problem.message, problem.kind)


# --- submission ----------------------------------------------------------------------------------


def submit(principal: Principal, session_id: str) -> Result:
    session = _load(principal, session_id)
    if session.status != "in_progress":
        raise rules.AlreadySubmitted("This exam was already submitted.")
    return _submit(session, by="learner")


def _score(key: list[rules.KeyEntry], sheet: ExamSheet) -> rules.ExamScore:
    saved = data.saved_answers(sheet)
    return rules.score_exam(
        [entry.question_id for entry in key],
        selected={
            e.question_id: rules.decode_picks(e.option_ids, saved[p].picks) for p, e in enumerate(key) if p in saved
        },
        answer_key={entry.question_id: entry.correct_ids() for entry in key},
        times={e.question_id: saved[p].time_spent_sec for p, e in enumerate(key) if p in saved},
    )


def _submit(session: ExamSession, *, by: str) -> Result:
    """Lock the session exactly once; retried if answers were saved while it was being scored."""
    key = _key(session)
    started, deadline_at = parse(session.started_at), parse(session.deadline_at)
    for _ in range(SUBMIT_TRIES):
        sheet = data.get_sheet(session.session_id)
        if sheet is None or sheet.status != "in_progress":
            raise rules.AlreadySubmitted("This exam was already submitted.")
        scored = _score(key, sheet)
        now = clock.now()
        spent = rules.time_spent_sec([r.time_spent_sec for r in scored.results.values()], started, deadline_at, now)
        passed = scored.passed(float(session.pass_mark_percent))
        submitted_at = clock.iso(now)
        try:
            with transaction() as tx:
                # The lock: only one submission finds the sheet in progress at the version it scored.
                tx.update(
                    sheet,
                    actions=[ExamSheet.status.set("submitted")],
                    condition=(ExamSheet.status == "in_progress") & (ExamSheet.version == int(sheet.version)),
                )
                tx.update(
                    session,
                    actions=[
                        ExamSession.status.set("submitted"),
                        ExamSession.submitted_at.set(submitted_at),
                        ExamSession.submitted_by.set(by),
                        ExamSession.time_spent_sec.set(spent),
                        ExamSession.score_percent.set(scored.score_percent),
                        ExamSession.correct.set(scored.correct),
                        ExamSession.answered.set(scored.answered),
                        ExamSession.passed.set(passed),
                        *data.sat_index(session, submitted_at),
                    ],
                )
                tx.save(data.result_item(session.session_id, [m.as_json() for m in rules.marks_of(key, scored)]))
                tx.delete(data.due_marker(session.user_id, session.session_id, session.deadline_at))
                tx.delete(data.live_exam_ref(session.user_id, session.session_id))  # practice may show these again
                if by == "deadline":  # the learner did not press submit: tell them it happened
                    _notify_submitted(tx, session, scored.score_percent, submitted_at)
                actor = session.user_id if by == "learner" else "system"
                outcome = {"by": by, "score_percent": scored.score_percent}
                tx.save(
                    event_for(
                        Change(actor, f"exam.submitted_by_{by}", "exam_session", session.session_id, after=outcome)
                    )
                )
        except TransactWriteError as exc:
            if not is_condition_failure(exc):
                raise
            continue  # submitted meanwhile (the next read says so) or answers changed: score again
        session.status, session.submitted_at, session.submitted_by = "submitted", submitted_at, by
        session.time_spent_sec, session.score_percent = spent, scored.score_percent
        session.correct, session.answered, session.passed = scored.correct, scored.answered, passed
        return result_of(session)
    raise rules.AnswersKeptChanging("Answers kept changing during submission; try again.")


def _notify_submitted(tx: Any, session: ExamSession, score_percent: float, now: str) -> None:
    """In the submission's transaction: the note lands exactly when the submission does."""
    notifications.add_personal(
        tx,
        session.user_id,
        clock.new_id(),
        "exam",
        "Your exam was submitted",
        f"Time ran out on {session.template_name}: your answers were submitted and scored ({score_percent:g}%).",
        f"/exams/{session.session_id}/review",
        now,
    )


def result_of(session: ExamSession) -> Result:
    return Result(
        id=session.session_id,
        template={"id": session.template_id, "name": session.template_name},
        score_percent=float(session.score_percent or 0),
        correct=int(session.correct or 0),
        answered=int(session.answered or 0),
        total=int(session.question_count),
        passed=bool(session.passed),
        time_spent_sec=int(session.time_spent_sec or 0),
        submitted_at=session.submitted_at or "",
        submitted_by=session.submitted_by or "learner",
    )


def history(principal: Principal, limit: int, cursor: str | None) -> Page[HistoryItem]:
    sessions, next_cursor = data.history(principal.user_id, limit, cursor)
    return Page[HistoryItem](
        items=[
            HistoryItem(
                id=s.session_id,
                template={"id": s.template_id, "name": s.template_name},
                status=s.status,
                score_percent=s.score_percent,
                passed=s.passed,
                time_spent_sec=s.time_spent_sec,
                started_at=s.started_at,
                submitted_at=s.submitted_at,
            )
            for s in sessions
        ],
        next_cursor=next_cursor,
    )


def review(principal: Principal, session_id: str) -> Review:
    session = _load(principal, session_id)
    if session.status != "submitted":
        raise rules.ReviewNotOpen("The review opens after the exam is submitted.")
    parts = _parts(session, [data.KEY, data.NOTES], results=True)
    key = [rules.KeyEntry.from_json(raw) for raw in parts.part(data.KEY)]
    notes = parts.part(data.NOTES)
    marks = [rules.Mark.from_json(raw) for raw in parts.result or []]
    # how everyone answered these questions, and the template's scores: one BatchGetItem
    counts, distribution = cohort.exam_review_reads(session.session_id, session.template_id)
    attempts = [
        ReviewAttempt(
            question_id=entry.question_id,
            category=entry.category,
            selected_option_ids=rules.decode_picks(entry.option_ids, mark.picks),
            correct_option_ids=entry.correct_ids(),
            is_correct=mark.is_correct,
            time_spent_sec=mark.time_spent_sec,
            explanation=note,
            statistics=None
            if counts is None
            else cohort.stats_out(counts.get(entry.question_id, QuestionCounts()), entry.option_ids),
        )
        for entry, mark, note in zip(key, marks, notes, strict=True)
    ]
    qids = [entry.question_id for entry in key]
    breakdown = rules.category_breakdown(
        qids, {e.question_id: e.category for e in key}, {a.question_id: a.is_correct for a in attempts}
    )
    names = taxonomy.category_names()
    return Review(
        id=session.session_id,
        template={"name": session.template_name},
        score_percent=float(session.score_percent or 0),
        passed=bool(session.passed),
        standing=cohort.standing(distribution, float(session.score_percent or 0)),
        attempts=attempts,
        categories=[
            CategoryBreakdown(
                category=names.get(c.category, c.category),
                total=c.total,
                correct=c.correct,
                score_percent=c.score_percent,
            )
            for c in breakdown
        ],
    )


def submitted_outcomes(session_id: str, parts: dict[str, int]) -> list[rules.QuestionOutcome] | None:
    """What a submitted exam's questions count for (for analytics): parsed whole, so a malformed
    paper raises before anything uses it. None when the paper is gone (an erased account)."""
    found = data.read_parts(session_id, [data.KEY], parts)
    result = data.get_result(session_id)
    if found is None or result is None:
        return None
    key = [rules.KeyEntry.from_json(raw) for raw in found.part(data.KEY)]
    return rules.outcomes(key, [rules.Mark.from_json(raw) for raw in result.marks])


def expire_due_sessions(hours_back: int = 24) -> int:
    """Submit every session whose deadline (plus grace) has passed: Queries the hourly due buckets."""
    now = clock.now()
    cutoff = clock.iso(now - timedelta(seconds=rules.GRACE_SEC))
    submitted = 0
    for offset in range(hours_back, -1, -1):
        bucket = data.due_bucket(clock.iso(now - timedelta(hours=offset)))
        for marker in data.due(bucket, cutoff):
            session = data.get_session(marker.user_id, marker.session_id)
            if session is None or session.status != "in_progress":
                continue
            try:
                _submit(session, by="deadline")
                submitted += 1
            except rules.AlreadySubmitted:
                continue
    return submitted
