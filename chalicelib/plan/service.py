"""Today's plan: gathers the rule's inputs (the review queue's one Query, which also carries what
the dashboard rebuild keeps for the plan; the taxonomy's and the exam blueprints' cached reads)
and shapes the rule's result."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.accounts.service import learner_timezone
from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.core.security import Principal
from chalicelib.core.timeutil import local_date
from chalicelib.exams import service as exams
from chalicelib.plan import rules
from chalicelib.plan.schemas import CategoryNew, PlanToday
from chalicelib.review import service as review
from chalicelib.taxonomy import service as taxonomy


class PlanNotSet(Conflict):
    code = "plan_not_set"


def today(principal: Principal) -> PlanToday:
    queue, inputs = review.queue_and_plan_inputs(principal.user_id)
    inputs = inputs or {}
    exam_date, minutes = inputs.get("exam_date"), inputs.get("daily_minutes")
    if not exam_date or not minutes:
        raise PlanNotSet("Set your exam date and daily minutes first (PATCH /me).")
    now_day = local_date(clock.now(), learner_timezone(principal.user_id))
    if date.fromisoformat(exam_date) < now_day:
        raise PlanNotSet("Your exam date has passed; set the next one (PATCH /me).")
    categories = taxonomy.active_categories()
    weights = rules.blueprint_weights([exams.blueprint_counts()], [c.slug for c in categories])
    progress: dict[str, Any] = inputs.get("categories") or {}
    states = [
        rules.CategoryState(
            slug=c.slug,
            published=int(c.published_count),
            seen=int(progress.get(c.slug, [0, 0, 0])[0]),
            answered=int(progress.get(c.slug, [0, 0, 0])[1]),
            correct=int(progress.get(c.slug, [0, 0, 0])[2]),
            blueprint_weight=weights.get(c.slug, 1.0),
        )
        for c in categories
    ]
    plan = rules.plan_for(
        rules.PlanInput(
            today=now_day,
            exam_date=date.fromisoformat(exam_date),
            daily_minutes=int(minutes),
            recent_answers=int(inputs.get("recent_answers") or 0),
            recent_answer_sec=int(inputs.get("recent_answer_sec") or 0),
            reviews_due=len(queue.items),
            reviews_done_today=queue.reviewed_today,
            new_done_today=queue.new_today,
            categories=states,
        )
    )
    names = {c.slug: c.name for c in categories}
    remaining = len(queue.items) + plan.new_remaining_today
    return PlanToday(
        date=now_day.isoformat(),
        exam_date=exam_date,
        days_left=plan.days_left,
        daily_minutes=int(minutes),
        seconds_per_question=plan.seconds_per_question,
        reviews=plan.reviews_today,
        reviews_done=queue.reviewed_today,
        new_questions=plan.new_today,
        new_done=queue.new_today,
        new_by_category=[
            CategoryNew(category=slug, name=names.get(slug, slug), new_questions=count)
            for slug, count in sorted(plan.new_by_category.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        minutes_today=-(-remaining * plan.seconds_per_question // 60),
        unseen=plan.unseen,
        required_new_per_day=plan.required_new_per_day,
        on_track=plan.on_track,
        behind_by_questions=plan.shortfall_questions,
        extra_minutes_per_day=plan.extra_minutes_per_day,
    )
