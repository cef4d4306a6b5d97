"""The plan to exam day as the learner sees it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CategoryNew(BaseModel):
    category: str = Field(description="Category slug.")
    name: str
    new_questions: int


class PlanToday(BaseModel):
    date: str = Field(description="Today in the learner's time zone.")
    exam_date: str
    days_left: int = Field(description="Study days before the exam, today included.")
    daily_minutes: int
    seconds_per_question: int = Field(description="The learner's pace (recent answers), or 60 s until measured.")
    reviews: int = Field(description="Reviews to do today (GET /review/queue lists them).")
    reviews_done: int
    new_questions: int = Field(description="Today's target of new questions, those done included.")
    new_done: int
    new_by_category: list[CategoryNew] = Field(description="What is left of today's new questions, by category.")
    minutes_today: int = Field(description="Time today's remaining reviews and new questions take at that pace.")
    unseen: int = Field(description="Published questions the learner has not answered yet.")
    required_new_per_day: int
    on_track: bool
    behind_by_questions: int = Field(description="Questions left unseen on exam day at this budget (0 on track).")
    extra_minutes_per_day: int = Field(description="Daily minutes to add to be back on track (0 on track).")
