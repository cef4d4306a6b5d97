"""Exam rules: the server keeps the clock, answers stay hidden until the one submission, and a
session past its deadline is submitted as it stood."""

from __future__ import annotations

import contextlib
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action

from chalicelib.accounts import data as accounts
from chalicelib.accounts.data import UserItem
from chalicelib.audit.data import Change, audited_transaction, event_for
from chalicelib.core import clock
from chalicelib.core.db import is_condition_failure, transaction, typed
from chalicelib.core.errors import field_error
from chalicelib.core.pagination import Page
from chalicelib.core.security import Principal, is_staff, require_verified_email
from chalicelib.core.timeutil import parse
from chalicelib.exams import data, rules
from chalicelib.exams.data import ExamAnswer, ExamSession, ExamState, ExamTemplate
from chalicelib.exams.schemas import (
    AnswerIn,
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
from chalicelib.questions import data as questions
from chalicelib.questions.data import Question
from chalicelib.questions.rules import selection_problem
from chalicelib.questions.schemas import OptionPublic
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
    session = data.new_session(
        principal.user_id,
        session_id,
        template_id=template.template_id,
        template_name=template.name,
        pass_mark_percent=template.pass_mark_percent,
        question_ids=[q.question_id for q in drawn],
        option_orders=orders,
        categories={q.question_id: [q.category, q.subcategory, q.question_type] for q in drawn},
        timezone=user.timezone if user else "UTC",
        started_at=clock.iso(now),
        deadline_at=clock.iso(deadline),
        status="in_progress",
    )
    accepts_until = deadline + timedelta(seconds=rules.GRACE_SEC)
    live = data.live_exam(
        principal.user_id,
        session_id,
        session.question_ids,
        clock.iso(accepts_until),
        expires_at=int(accepts_until.timestamp()) + 86400,
    )
    with transaction() as tx:
        tx.save(session, condition=ExamSession.PK.does_not_exist())
        tx.save(data.new_state(session_id, session.deadline_at))
        tx.save(data.due_marker(principal.user_id, session_id, session.deadline_at))
        tx.save(live)
        tx.update(template, actions=[ExamTemplate.session_count.add(1)], add_version_condition=False)
        tx.save(event_for(Change(principal.user_id, "exam.started", "exam_session", session_id)))
    return _session_out(session, {}, drawn)


def _public(question: Question, order: list[str]) -> Any:
    view = to_public(question)
    by_id = {o.id: o for o in view.options}
    return view.model_copy(update={"options": [OptionPublic(id=i, text=by_id[i].text) for i in order if i in by_id]})


def _session_out(session: ExamSession, saved: dict[str, ExamAnswer], items: list[Question]) -> SessionOut:
    by_id = {q.question_id: q for q in items}
    in_progress = session.status == "in_progress"
    return SessionOut(
        id=session.session_id,
        template={"id": session.template_id, "name": session.template_name},
        status=session.status,
        started_at=session.started_at,
        deadline_at=session.deadline_at,
        remaining_sec=rules.remaining_sec(clock.now(), parse(session.deadline_at)) if in_progress else 0,
        questions=[_public(by_id[qid], session.option_orders[qid]) for qid in session.question_ids if qid in by_id],
        answers=[
            SavedAnswer(
                question_id=a.question_id,
                selected_option_ids=list(a.selected_option_ids),
                time_spent_sec=int(a.time_spent_sec or 0),
                flagged=bool(a.flagged),
            )
            for a in saved.values()
        ],
    )


# --- during the exam -----------------------------------------------------------------------------

Bank = dict[str, Question]


def _overdue(session: ExamSession) -> bool:
    return session.status == "in_progress" and not rules.accepts_answers(clock.now(), parse(session.deadline_at))


def _load(principal: Principal, session_id: str, *, consistent: bool = True) -> tuple[ExamSession, Bank | None]:
    """The learner's own session, submitted first if its time ran out while nobody was looking.
    Returns the questions too when that submission had to read them, so callers read them once."""
    session = data.get_session(principal.user_id, session_id, consistent=consistent)
    if session is None:
        raise rules.ExamNotFound("No such exam session.")
    if not _overdue(session):
        return session, None
    bank = questions.get_questions(list(session.question_ids))
    with contextlib.suppress(rules.AlreadySubmitted):  # a concurrent request submitted it first
        _submit(session, by="deadline", bank=bank)
    return data.get_session(principal.user_id, session_id) or session, bank


def get_session(principal: Principal, session_id: str) -> SessionOut:
    session, bank = _load(principal, session_id)
    saved = data.answers(session_id)
    found = bank if bank is not None else questions.get_questions(list(session.question_ids))
    return _session_out(session, saved, list(found.values()))


def save_answers(principal: Principal, session_id: str, request: AnswersIn) -> SaveResult:
    limits.consume(limits.limit("answers"), principal.user_id, "Too many answers in a short time; slow down.")
    # The session's content never changes after start, so an eventually consistent read validates
    # the answers; the status and deadline are checked atomically on the small state item.
    session, _ = _load(principal, session_id, consistent=False)
    if session.status != "in_progress":
        raise rules.AlreadySubmitted("This exam has been submitted; answers can no longer change.")
    seen: set[str] = set()
    for index, answer in enumerate(request.answers):
        _check_answer(session, answer.question_id, answer.selected_option_ids, f"answers.{index}", seen)
    now = clock.now()
    cutoff = clock.iso(now - timedelta(seconds=rules.GRACE_SEC))
    try:
        with transaction() as tx:
            # Bumping the version makes a submit that read older answers retry instead of missing these.
            tx.update(
                data.state_ref(session_id),
                actions=[ExamState.answers_version.add(1)],
                condition=(ExamState.status == "in_progress") & (ExamState.deadline_at >= cutoff),
            )
            for answer in request.answers:
                tx.update(data.answer_ref(session_id, answer.question_id), actions=_answer_actions(answer, now))
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise rules.TimeUp("Time is up or the exam was submitted; answers can no longer change.") from exc
        raise
    return SaveResult(saved=len(request.answers), remaining_sec=rules.remaining_sec(now, parse(session.deadline_at)))


def _answer_actions(answer: AnswerIn, now: datetime) -> list[Action]:
    actions = [
        typed(ExamAnswer),
        ExamAnswer.question_id.set(answer.question_id),
        ExamAnswer.saved_at.set(clock.iso(now)),
        ExamAnswer.selected_option_ids.set(answer.selected_option_ids),
    ]
    if answer.time_spent_sec is not None:
        actions.append(ExamAnswer.time_spent_sec.set(answer.time_spent_sec))
    if answer.flagged is not None:
        actions.append(ExamAnswer.flagged.set(answer.flagged))
    return actions


def _check_answer(session: ExamSession, question_id: str, selected: list[str], field: str, seen: set[str]) -> None:
    if question_id not in session.option_orders:
        raise field_error(f"{field}.question_id", "This question is not part of the exam.", "not_in_session")
    if question_id in seen:
        raise field_error(f"{field}.question_id", "Each question may appear once per save.", "duplicate")
    seen.add(question_id)
    problem = selection_problem(session.option_orders[question_id], session.categories[question_id][2], selected)
    if problem is not None:
        raise field_error(f"{field}.selected_option_ids", problem.message, problem.kind)


# --- submission ----------------------------------------------------------------------------------


def submit(principal: Principal, session_id: str) -> Result:
    session, bank = _load(principal, session_id)
    if session.status != "in_progress":
        raise rules.AlreadySubmitted("This exam was already submitted.")
    return _submit(session, by="learner", bank=bank)


def _score(session: ExamSession, bank: Bank) -> rules.ExamScore:
    saved = data.answers(session.session_id)
    return rules.score_exam(
        session.question_ids,
        selected={qid: list(a.selected_option_ids) for qid, a in saved.items()},
        answer_key={qid: correct_option_ids(q) for qid, q in bank.items()},
        times={qid: int(a.time_spent_sec or 0) for qid, a in saved.items()},
    )


def _submit(session: ExamSession, *, by: str, bank: Bank | None = None) -> Result:
    """Lock the session exactly once; retried if answers were saved while it was being scored."""
    bank = bank if bank is not None else questions.get_questions(list(session.question_ids))
    started, deadline_at = parse(session.started_at), parse(session.deadline_at)
    for _ in range(SUBMIT_TRIES):
        state = data.get_state(session.session_id)
        if state is None or state.status != "in_progress":
            raise rules.AlreadySubmitted("This exam was already submitted.")
        scored = _score(session, bank)
        now = clock.now()
        spent = rules.time_spent_sec([r.time_spent_sec for r in scored.results.values()], started, deadline_at, now)
        passed = scored.passed(float(session.pass_mark_percent))
        submitted_at = clock.iso(now)
        try:
            with transaction() as tx:
                # The lock: only one submission finds the state in progress at the version it scored.
                tx.update(
                    state,
                    actions=[ExamState.status.set("submitted")],
                    condition=(ExamState.status == "in_progress")
                    & (ExamState.answers_version == int(state.answers_version)),
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
                        ExamSession.results.set({qid: r.as_dict() for qid, r in scored.results.items()}),
                    ],
                )
                tx.delete(data.due_marker(session.user_id, session.session_id, session.deadline_at))
                tx.delete(data.live_exam_ref(session.user_id, session.session_id))  # practice may show these again
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


def result_of(session: ExamSession) -> Result:
    return Result(
        id=session.session_id,
        template={"id": session.template_id, "name": session.template_name},
        score_percent=float(session.score_percent or 0),
        correct=int(session.correct or 0),
        answered=int(session.answered or 0),
        total=len(session.question_ids),
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
    session, bank = _load(principal, session_id)
    if session.status != "submitted" or not session.results:
        raise rules.ReviewNotOpen("The review opens after the exam is submitted.")
    found = bank if bank is not None else questions.get_questions(list(session.question_ids))
    names = taxonomy.category_names()
    results = session.results
    category_of = {qid: session.categories[qid][0] for qid in session.question_ids}
    attempts = [
        ReviewAttempt(
            question_id=qid,
            category=category_of[qid],
            selected_option_ids=results[qid]["selected"],
            correct_option_ids=results[qid]["correct"],
            is_correct=results[qid]["is_correct"],
            time_spent_sec=int(results[qid].get("time_spent_sec", 0)),
            explanation=found[qid].explanation if qid in found else "",
        )
        for qid in session.question_ids
    ]
    breakdown = rules.category_breakdown(
        session.question_ids, category_of, {qid: bool(results[qid]["is_correct"]) for qid in session.question_ids}
    )
    return Review(
        id=session.session_id,
        template={"name": session.template_name},
        score_percent=float(session.score_percent or 0),
        passed=bool(session.passed),
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
