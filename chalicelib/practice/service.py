"""Practice rules: what a session may draw, how an answer is judged, what a learner may see when."""

from __future__ import annotations

import random
import secrets

from pynamodb.exceptions import UpdateError

from chalicelib.accounts import data as accounts
from chalicelib.accounts.service import learner_timezone
from chalicelib.billing import service as billing
from chalicelib.cohort import data as cohort_data
from chalicelib.cohort import service as cohort
from chalicelib.core import clock
from chalicelib.core.db import TableItem, is_condition_failure, typed
from chalicelib.core.errors import ApiError, Conflict, NotFound, ServiceBusy, Unprocessable, field_error
from chalicelib.core.pagination import Page
from chalicelib.core.security import Principal
from chalicelib.core.timeutil import local_date
from chalicelib.exams import data as exams
from chalicelib.limits import service as limits
from chalicelib.practice import data
from chalicelib.practice.data import PracticeAnswer, PracticeSession, QuestionState, Recorded
from chalicelib.practice.schemas import (
    AnswerOut,
    AttemptIn,
    AttemptResult,
    FlagOut,
    Progress,
    SessionCreate,
    SessionOut,
    Summary,
)
from chalicelib.questions import data as questions
from chalicelib.questions.data import Question
from chalicelib.questions.rules import is_correct, score_percent, selection_problem
from chalicelib.questions.service import correct_option_ids, to_public
from chalicelib.review import data as review_data
from chalicelib.review import service as review
from chalicelib.taxonomy import data as taxonomy

# --- starting a session --------------------------------------------------------------------------


def _targets(request: SessionCreate) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(category, subcategory) pairs to draw from, and the category names for the summary."""
    categories, subcategories = taxonomy.all_nodes()
    active = {c.slug: c for c in categories if c.status == "active"}
    for index, slug in enumerate(request.categories):
        if slug not in active:
            raise field_error(f"categories.{index}", f"No such active category: {slug}.", "unknown_category")
    chosen = request.categories or []
    pairs: list[tuple[str, str | None]] = []
    for index, sub in enumerate(request.subcategories):
        owners = [
            s.category
            for s in subcategories
            if s.slug == sub and s.status == "active" and s.category in active and (not chosen or s.category in chosen)
        ]
        if not owners:
            raise field_error(f"subcategories.{index}", f"No such active subcategory: {sub}.", "unknown_subcategory")
        pairs += [(owner, sub) for owner in owners]
    covered = {category for category, _ in pairs}
    pairs += [(category, None) for category in chosen if category not in covered]
    names = sorted({active[c].name for c, _ in pairs}) if pairs else []
    return pairs, names


def _candidate_ids(pairs: list[tuple[str, str | None]]) -> list[str]:
    """Published question ids to draw from: a few small id-list items per category, never the
    questions themselves (only the drawn ones are read)."""
    if not pairs:
        categories, _ = taxonomy.all_nodes()
        pairs = [(c.slug, None) for c in categories if c.status == "active"]
    return sorted({qid for category, sub in pairs for qid in questions.published_ids(category, sub)})


def _apply_pool(pool_name: str, candidates: list[str], user_id: str) -> list[str]:
    """unseen: never answered (no review card); incorrect: last answered wrong (the card's newest
    answer); flagged: flagged by the learner (question states)."""
    if pool_name == "all":
        return candidates
    if pool_name == "flagged":
        flagged = {s.question_id for s in data.question_states(user_id) if s.flagged}
        return [qid for qid in candidates if qid in flagged]
    cards = {c.question_id: c for c in review_data.all_cards(user_id)}
    if pool_name == "unseen":
        return [qid for qid in candidates if qid not in cards]
    return [qid for qid in candidates if qid in cards and cards[qid].last_correct is False]


def create_session(principal: Principal, request: SessionCreate) -> SessionOut:
    limits.consume(
        limits.limit("practice-sessions"), principal.user_id, "Too many practice sessions started; try later."
    )
    user = accounts.get_user(principal.user_id)
    pairs, names = _targets(request)
    candidates = _candidate_ids(pairs)
    # A question of a running exam is never drawn: practice would reveal its answer.
    hidden = exams.questions_in_live_exams(principal.user_id, clock.iso(clock.now()))
    if request.pool == "due":  # spaced review: the due cards, most overdue first, not a random draw
        billing.require_feature(principal, "review_queue")
        allowed = set(candidates)
        due = review.due_question_ids(principal.user_id, request.question_count + len(hidden))
        eligible = [qid for qid in due if qid in allowed and qid not in hidden]
    else:
        eligible = [qid for qid in _apply_pool(request.pool, candidates, principal.user_id) if qid not in hidden]
    if not eligible:
        raise Unprocessable(
            "No published questions match these categories and this pool; widen the selection.",
            details=[{"field": "pool", "message": f"no questions in pool '{request.pool}'"}],
        )
    seed = secrets.randbits(48)
    if request.pool == "due":
        sample = eligible[: request.question_count]
    else:
        sample = random.Random(seed).sample(eligible, min(request.question_count, len(eligible)))  # noqa: S311
    drawn = questions.get_published(sample)  # only the drawn questions are read
    chosen = [q.question_id for q in drawn]
    session_id = clock.new_id()
    session = data.new_session(
        principal.user_id,
        session_id,
        categories=request.categories,
        subcategories=request.subcategories,
        pool=request.pool,
        requested=request.question_count,
        question_ids=chosen,
        include_explanations=request.include_explanations,
        seed=seed,
        timezone=user.timezone if user else "UTC",
        status="active",
        started_at=clock.iso(clock.now()),
        category_names=names,
    )
    session.save(condition=PracticeSession.PK.does_not_exist())
    return _session_out(session, [], drawn)


# --- answering -----------------------------------------------------------------------------------


def _session_and_question(
    user_id: str, session_id: str, question_id: str
) -> tuple[PracticeSession, Question, TableItem | None]:
    """The session, the question and how the cohort answered it, in one BatchGetItem; another
    user's session is simply not found."""
    keys = [
        data.session_key(user_id, session_id),
        questions.question_key(question_id),
        cohort_data.stat_key(question_id),
    ]
    found = {type(item): item for item in TableItem.batch_get(keys, consistent_read=True)}
    session, question = found.get(PracticeSession), found.get(Question)
    if not isinstance(session, PracticeSession):
        raise NotFound("No such practice session.")
    if session.status != "active":
        raise Conflict("This session is completed; start a new one.")
    if question_id not in session.question_ids or not isinstance(question, Question):
        raise field_error("question_id", "This question is not part of the session.", "not_in_session")
    return session, question, found.get(cohort_data.QuestionStat)


def _check_selection(question: Question, selected: list[str]) -> None:
    problem = selection_problem({o.id for o in question.options}, question.question_type, selected)
    if problem is not None:
        raise field_error("selected_option_ids", problem.message, problem.kind)


ANSWER_ATTEMPTS = 5  # answers racing in one session each take the next sequence number


def submit_attempt(principal: Principal, session_id: str, request: AttemptIn) -> AttemptResult:
    limits.consume(limits.limit("answers"), principal.user_id, "Too many answers in a short time; slow down.")
    zone = learner_timezone(principal.user_id)
    counted = billing.count_question(principal, zone)  # the plan's daily allowance
    try:
        return _record_attempt(principal, session_id, request)
    except ApiError:
        if counted:  # a refused answer does not spend the allowance
            billing.uncount_question(principal, zone)
        raise


def _record_attempt(principal: Principal, session_id: str, request: AttemptIn) -> AttemptResult:
    for _ in range(ANSWER_ATTEMPTS):
        session, question, stat = _session_and_question(principal.user_id, session_id, request.question_id)
        _check_selection(question, request.selected_option_ids)
        now = clock.now()
        if question.question_id in exams.questions_in_live_exams(principal.user_id, clock.iso(now)):
            raise Conflict("This question is part of your exam in progress; answer it there first.")
        correct_ids = correct_option_ids(question)
        correct = is_correct(request.selected_option_ids, correct_ids)
        statistics = cohort.stats_of(stat, [o.id for o in question.options])
        answer = data.new_answer(
            session_id,
            question.question_id,
            user_id=principal.user_id,
            question_version=int(question.version or 1),
            category=question.category,
            subcategory=question.subcategory,
            selected_option_ids=request.selected_option_ids,
            correct_option_ids=correct_ids,
            is_correct=correct,
            time_spent_sec=request.time_spent_sec,
            confidence=request.confidence,
            median_sec=statistics.median_time_sec,
            answered_at=clock.iso_ms(now),
            local_date=local_date(now, session.timezone).isoformat(),
        )
        outcome = data.record_answer(session, answer)
        if outcome is Recorded.DUPLICATE:
            raise Conflict("This question was already answered in this session.")
        if outcome is Recorded.CLOSED:
            raise Conflict("This session is completed; start a new one.")
        if outcome is Recorded.OK:
            explanation = question.explanation if session.include_explanations else None
            return AttemptResult(
                is_correct=correct,
                correct_option_ids=correct_ids,
                explanation=explanation,
                statistics=statistics,
            )
    raise ServiceBusy("Too many answers at once in this session; please retry.", retry_after_sec=1)


def set_flag(principal: Principal, session_id: str, question_id: str, flagged: bool) -> FlagOut:
    session = data.get_session(principal.user_id, session_id)
    if session is None:
        raise NotFound("No such practice session.")
    if question_id not in session.question_ids:
        raise field_error("question_id", "This question is not part of the session.", "not_in_session")
    state = data.question_state_ref(principal.user_id, question_id)
    state.update(
        actions=[typed(QuestionState), QuestionState.flagged.set(flagged), QuestionState.question_id.set(question_id)]
    )
    return FlagOut(question_id=question_id, flagged=flagged)


# --- reading and completing ----------------------------------------------------------------------


def _load(principal: Principal, session_id: str) -> PracticeSession:
    session = data.get_session(principal.user_id, session_id)
    if session is None:
        raise NotFound("No such practice session.")
    return session


def get_session(principal: Principal, session_id: str) -> SessionOut:
    session = _load(principal, session_id)
    answered = data.answers(session_id)
    bank = questions.get_questions(list(session.question_ids))
    return _session_out(session, answered, [bank[qid] for qid in session.question_ids if qid in bank])


def _session_out(session: PracticeSession, answered: list[PracticeAnswer], items: list[Question]) -> SessionOut:
    explanations = {q.question_id: q.explanation for q in items} if session.include_explanations else {}
    count = len(session.question_ids)
    shortfall = (
        f"Only {count} questions match; the session has {count} instead of {int(session.requested)}."
        if count < int(session.requested)
        else None
    )
    return SessionOut(
        id=session.session_id,
        status=session.status,
        categories=list(session.categories),
        subcategories=list(session.subcategories),
        pool=session.pool,
        include_explanations=bool(session.include_explanations),
        question_count=count,
        requested=int(session.requested),
        shortfall_message=shortfall,
        question_ids=list(session.question_ids),
        questions=[to_public(q) for q in items],
        progress=Progress(answered=int(session.answered), correct=int(session.correct), total=count),
        answers=[
            AnswerOut(
                question_id=a.question_id,
                selected_option_ids=list(a.selected_option_ids),
                correct_option_ids=list(a.correct_option_ids),
                is_correct=bool(a.is_correct),
                time_spent_sec=int(a.time_spent_sec),
                explanation=explanations.get(a.question_id),
            )
            for a in answered
        ],
        started_at=session.started_at,
        completed_at=session.completed_at,
    )


def summary_of(session: PracticeSession) -> Summary:
    answered, correct = int(session.answered), int(session.correct)
    return Summary(
        id=session.session_id,
        answered=answered,
        correct=correct,
        incorrect=answered - correct,
        unanswered=len(session.question_ids) - answered,
        score_percent=score_percent(answered, correct),
        time_spent_sec=int(session.time_spent_sec),
        categories=list(session.category_names),
        started_at=session.started_at,
        completed_at=session.completed_at,
    )


def complete(principal: Principal, session_id: str) -> Summary:
    """Completing twice returns the same summary: a client may safely retry."""
    session = _load(principal, session_id)
    if session.status == "completed":
        return summary_of(session)
    try:
        session.update(
            actions=[PracticeSession.status.set("completed"), PracticeSession.completed_at.set(clock.iso(clock.now()))],
            condition=PracticeSession.status == "active",
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        session = _load(principal, session_id)
    return summary_of(session)


def history(principal: Principal, limit: int, cursor: str | None) -> Page[Summary]:
    sessions, next_cursor = data.history(principal.user_id, limit, cursor)
    return Page[Summary](items=[summary_of(s) for s in sessions], next_cursor=next_cursor)
