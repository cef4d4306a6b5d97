"""Exam rules: the server keeps the clock, answers stay hidden until the one submission, and a
session past its deadline is submitted as it stood."""

from __future__ import annotations

import contextlib
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.accounts import data as accounts
from chalicelib.accounts.data import UserItem
from chalicelib.analytics import snapshot
from chalicelib.audit.data import new_event
from chalicelib.core import clock
from chalicelib.core.db import is_condition_failure, transaction, typed, user_pk
from chalicelib.core.errors import Conflict, NotFound, field_error
from chalicelib.core.pagination import Page
from chalicelib.core.security import Principal, is_staff
from chalicelib.exams import data
from chalicelib.exams.data import ExamAnswer, ExamSession, ExamState, ExamTemplate
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
from chalicelib.questions import data as questions
from chalicelib.questions.data import Question
from chalicelib.questions.schemas import OptionPublic
from chalicelib.questions.service import correct_option_ids, to_public

GRACE_SEC = 30  # network latency allowance after the deadline
SUBMIT_TRIES = 3


def _parse(iso_time: str) -> datetime:
    return datetime.fromisoformat(iso_time.replace("Z", "+00:00"))


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
    from chalicelib.taxonomy import data as taxonomy

    categories, _ = taxonomy.all_nodes()
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
    template = ExamTemplate(
        PK=data.TEMPLATES_PK,
        SK=f"TPL#{template_id}",
        template_id=template_id,
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
    event = new_event(
        actor_id=actor.user_id,
        action="exam_template.created",
        entity_type="exam_template",
        entity_id=template_id,
        after=out.model_dump(mode="json"),
    )
    with transaction() as tx:
        tx.save(template)
        tx.save(event)
    return out


def _template(template_id: str) -> ExamTemplate:
    template = data.get_template(template_id)
    if template is None:
        raise NotFound("No such exam template.")
    return template


def update_template(actor: Principal, template_id: str, patch: TemplatePatch) -> TemplateOut:
    template = _template(template_id)
    before = template_out(template, staff=True).model_dump(mode="json")
    changes = patch.model_dump(exclude_none=True)
    actions = [getattr(ExamTemplate, name).set(value) for name, value in changes.items()]
    event = new_event(
        actor_id=actor.user_id,
        action="exam_template.updated",
        entity_type="exam_template",
        entity_id=template_id,
        before=before,
        after={**before, **changes},
    )
    try:
        with transaction() as tx:
            tx.update(template, actions=actions)  # version-checked
            tx.save(event)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise Conflict("The template changed meanwhile; reload and retry.") from exc
        raise
    for name, value in changes.items():
        setattr(template, name, value)
    return template_out(template, staff=True)


def delete_template(actor: Principal, template_id: str) -> None:
    template = _template(template_id)
    if int(template.session_count):
        raise Conflict("This template has been sat; retire it instead of deleting it.")
    event = new_event(
        actor_id=actor.user_id,
        action="exam_template.deleted",
        entity_type="exam_template",
        entity_id=template_id,
        before=template_out(template, staff=True).model_dump(mode="json"),
    )
    try:
        with transaction() as tx:
            tx.delete(template, condition=ExamTemplate.session_count == 0)
            tx.save(event)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise Conflict("This template has been sat; retire it instead of deleting it.") from exc
        raise


def set_extra_time(actor: Principal, user_id: str, percent: int) -> int:
    user = accounts.get_user(user_id)
    if user is None:
        raise NotFound("No such user.")
    event = new_event(
        actor_id=actor.user_id,
        action="user.extra_time_changed",
        entity_type="user",
        entity_id=user_id,
        before={"extra_time_percent": int(user.extra_time_percent)},
        after={"extra_time_percent": percent},
    )
    with transaction() as tx:
        tx.update(user, actions=[UserItem.extra_time_percent.set(percent)])
        tx.save(event)
    return percent


# --- starting ------------------------------------------------------------------------------------


def _draw(template: ExamTemplate, rng: random.Random) -> list[Question]:
    if template.question_ids:
        found = questions.get_questions(list(template.question_ids))  # BatchGetItem: 100 keys per call
        drawn = [found[qid] for qid in template.question_ids if qid in found and found[qid].status == "published"]
        if len(drawn) < int(template.total_questions):
            raise Conflict("Some questions of this paper were withdrawn; an examiner must update it.")
    else:
        drawn = []
        for slug, count in sorted(dict(template.blueprint or {}).items()):  # one Query per category
            pool = sorted(
                (q for q in Question.gsi1.query(f"QBANK#published#{slug}") if isinstance(q, Question)),
                key=lambda q: q.question_id,
            )
            if len(pool) < int(count):
                raise Conflict(f"Not enough published questions in {slug} for this blueprint.")
            drawn += rng.sample(pool, int(count))
    if template.shuffle_questions:
        rng.shuffle(drawn)
    return drawn


def start_session(principal: Principal, template_id: str) -> SessionOut:
    template = data.get_template(template_id)
    if template is None or template.status != "active":
        raise NotFound("No such active exam template.")
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
    extra = int(user.extra_time_percent) if user else 0
    deadline = now + timedelta(minutes=int(template.duration_minutes) * (100 + extra) / 100)
    session_id = clock.new_id()
    session = ExamSession(
        PK=user_pk(principal.user_id),
        SK=data.SESSION_PREFIX + session_id,
        session_id=session_id,
        user_id=principal.user_id,
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
    session.GSI2PK, session.GSI2SK = data.due_bucket(session.deadline_at), f"{session.deadline_at}#{session_id}"
    state = ExamState(PK=data.answers_pk(session_id), SK="STATE", status="in_progress", deadline_at=session.deadline_at)
    with transaction() as tx:
        tx.save(session, condition=ExamSession.PK.does_not_exist())
        tx.save(state)
        tx.update(template, actions=[ExamTemplate.session_count.add(1)], add_version_condition=False)
    return _session_out(session, {}, drawn)


def _public(question: Question, order: list[str]) -> Any:
    view = to_public(question)
    by_id = {o.id: o for o in view.options}
    return view.model_copy(update={"options": [OptionPublic(id=i, text=by_id[i].text) for i in order if i in by_id]})


def _remaining(session: ExamSession) -> int:
    return max(0, int((_parse(session.deadline_at) - clock.now()).total_seconds()))


def _session_out(session: ExamSession, saved: dict[str, ExamAnswer], items: list[Question]) -> SessionOut:
    by_id = {q.question_id: q for q in items}
    return SessionOut(
        id=session.session_id,
        template={"id": session.template_id, "name": session.template_name},
        status=session.status,
        started_at=session.started_at,
        deadline_at=session.deadline_at,
        remaining_sec=_remaining(session) if session.status == "in_progress" else 0,
        questions=[_public(by_id[qid], session.option_orders[qid]) for qid in session.question_ids if qid in by_id],
        answers=[
            SavedAnswer(
                question_id=a.question_id, selected_option_ids=list(a.selected_option_ids), flagged=bool(a.flagged)
            )
            for a in saved.values()
        ],
    )


# --- during the exam -----------------------------------------------------------------------------


def _past_deadline(session: ExamSession) -> bool:
    return clock.now() > _parse(session.deadline_at) + timedelta(seconds=GRACE_SEC)


def _load(principal: Principal, session_id: str, *, consistent: bool = True) -> ExamSession:
    """The learner's own session, submitted first if its time ran out while nobody was looking."""
    session = data.get_session(principal.user_id, session_id, consistent=consistent)
    if session is None:
        raise NotFound("No such exam session.")
    if session.status == "in_progress" and _past_deadline(session):
        with contextlib.suppress(Conflict):  # a concurrent request submitted it first
            _submit(session, by="deadline")
        session = data.get_session(principal.user_id, session_id) or session
    return session


def get_session(principal: Principal, session_id: str) -> SessionOut:
    session = _load(principal, session_id)
    saved = data.answers(session_id)
    found = questions.get_questions(list(session.question_ids))
    return _session_out(session, saved, list(found.values()))


def save_answers(principal: Principal, session_id: str, request: AnswersIn) -> SaveResult:
    # The session's content never changes after start, so an eventually consistent read validates
    # the answers; the status and deadline are checked atomically on the small state item.
    session = _load(principal, session_id, consistent=False)
    if session.status != "in_progress":
        raise Conflict("This exam has been submitted; answers can no longer change.")
    seen: set[str] = set()
    for index, answer in enumerate(request.answers):
        _check_answer(session, answer.question_id, answer.selected_option_ids, f"answers.{index}", seen)
    cutoff = clock.iso(clock.now() - timedelta(seconds=GRACE_SEC))
    now = clock.iso(clock.now())
    try:
        with transaction() as tx:
            # Bumping the version makes a submit that read older answers retry instead of missing these.
            tx.update(
                ExamState(PK=data.answers_pk(session_id), SK="STATE"),
                actions=[ExamState.answers_version.add(1)],
                condition=(ExamState.status == "in_progress") & (ExamState.deadline_at >= cutoff),
            )
            for answer in request.answers:
                actions = [
                    typed(ExamAnswer),
                    ExamAnswer.question_id.set(answer.question_id),
                    ExamAnswer.saved_at.set(now),
                    ExamAnswer.selected_option_ids.set(answer.selected_option_ids),
                ]
                if answer.flagged is not None:
                    actions.append(ExamAnswer.flagged.set(answer.flagged))
                tx.update(ExamAnswer(PK=data.answers_pk(session_id), SK=f"Q#{answer.question_id}"), actions=actions)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise Conflict("Time is up or the exam was submitted; answers can no longer change.") from exc
        raise
    return SaveResult(saved=len(request.answers), remaining_sec=_remaining(session))


def _check_answer(session: ExamSession, question_id: str, selected: list[str], field: str, seen: set[str]) -> None:
    if question_id not in session.option_orders:
        raise field_error(f"{field}.question_id", "This question is not part of the exam.", "not_in_session")
    if question_id in seen:
        raise field_error(f"{field}.question_id", "Each question may appear once per save.", "duplicate")
    seen.add(question_id)
    valid = set(session.option_orders[question_id])
    if any(option not in valid for option in selected) or len(set(selected)) != len(selected):
        raise field_error(f"{field}.selected_option_ids", "Not options of this question.", "unknown_option")
    if session.categories[question_id][2] == "single" and len(selected) > 1:
        raise field_error(f"{field}.selected_option_ids", "A single best answer takes one option.", "too_many")


# --- submission ----------------------------------------------------------------------------------


def submit(principal: Principal, session_id: str) -> Result:
    session = _load(principal, session_id)
    if session.status != "in_progress":
        raise Conflict("This exam was already submitted.")
    return _submit(session, by="learner")


def _score(session: ExamSession) -> dict[str, Any]:
    saved = data.answers(session.session_id)
    found = questions.get_questions(list(session.question_ids))
    results: dict[str, dict[str, Any]] = {}
    for qid in session.question_ids:
        selected = list(saved[qid].selected_option_ids) if qid in saved else []
        correct = correct_option_ids(found[qid]) if qid in found else []
        results[qid] = {
            "selected": selected,
            "correct": correct,
            "is_correct": bool(selected) and set(selected) == set(correct),  # unanswered counts as wrong
        }
    total = len(session.question_ids)
    right = sum(bool(r["is_correct"]) for r in results.values())
    return {
        "results": results,
        "correct": right,
        "answered": sum(bool(r["selected"]) for r in results.values()),
        "score_percent": round(100 * right / total, 2) if total else 0.0,
    }


def _submit(session: ExamSession, *, by: str) -> Result:
    """Lock the session exactly once; retried if answers were saved while it was being scored."""
    for _ in range(SUBMIT_TRIES):
        state = data.get_state(session.session_id)
        if state is None or state.status != "in_progress":
            raise Conflict("This exam was already submitted.")
        scored = _score(session)
        allowed = (_parse(session.deadline_at) - _parse(session.started_at)).total_seconds()
        spent = int(min(allowed, (clock.now() - _parse(session.started_at)).total_seconds()))
        passed = scored["score_percent"] >= float(session.pass_mark_percent)
        submitted_at = clock.iso(clock.now())
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
                        ExamSession.score_percent.set(scored["score_percent"]),
                        ExamSession.correct.set(scored["correct"]),
                        ExamSession.answered.set(scored["answered"]),
                        ExamSession.passed.set(passed),
                        ExamSession.results.set(scored["results"]),
                        ExamSession.GSI2PK.remove(),
                        ExamSession.GSI2SK.remove(),  # off the expiry index
                    ],
                )
        except TransactWriteError as exc:
            if not is_condition_failure(exc):
                raise
            continue  # submitted meanwhile (the next read says so) or answers changed: score again
        session.status, session.submitted_at, session.submitted_by = "submitted", submitted_at, by
        session.time_spent_sec, session.score_percent, session.correct = (
            spent,
            scored["score_percent"],
            scored["correct"],
        )
        session.answered, session.passed = scored["answered"], passed
        return result_of(session)
    raise Conflict("Answers kept changing during submission; try again.")


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
            if isinstance(s, ExamSession)
        ],
        next_cursor=next_cursor,
    )


def review(principal: Principal, session_id: str) -> Review:
    session = _load(principal, session_id)
    if session.status != "submitted" or not session.results:
        raise Conflict("The review opens after the exam is submitted.")
    found = questions.get_questions(list(session.question_ids))
    names = {c.slug: c.name for c in snapshot.active_categories()}
    attempts: list[ReviewAttempt] = []
    per_category: dict[str, tuple[int, int]] = {}
    for qid in session.question_ids:
        result = session.results[qid]
        category = session.categories[qid][0]
        attempts.append(
            ReviewAttempt(
                question_id=qid,
                category=category,
                selected_option_ids=result["selected"],
                correct_option_ids=result["correct"],
                is_correct=result["is_correct"],
                explanation=found[qid].explanation if qid in found else "",
            )
        )
        total, right = per_category.get(category, (0, 0))
        per_category[category] = (total + 1, right + int(result["is_correct"]))
    breakdown = [
        CategoryBreakdown(category=names.get(c, c), total=t, correct=r, score_percent=round(100 * r / t, 2))
        for c, (t, r) in sorted(per_category.items())
    ]
    return Review(
        id=session.session_id,
        template={"name": session.template_name},
        score_percent=float(session.score_percent or 0),
        passed=bool(session.passed),
        attempts=attempts,
        categories=breakdown,
    )


def expire_due_sessions(hours_back: int = 24) -> int:
    """Submit every session whose deadline (plus grace) has passed: Queries the hourly due buckets."""
    now = clock.now()
    cutoff = clock.iso(now - timedelta(seconds=GRACE_SEC))
    submitted = 0
    for offset in range(hours_back, -1, -1):
        bucket = data.due_bucket(clock.iso(now - timedelta(hours=offset)))
        for session in data.due(bucket, cutoff):
            try:
                _submit(session, by="deadline")
                submitted += 1
            except Conflict:
                continue
    return submitted
