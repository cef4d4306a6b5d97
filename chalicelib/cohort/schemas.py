"""Shapes of the cohort's statistics as learners and staff see them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OptionShareOut(BaseModel):
    option_id: str
    percent: float = Field(description="Share of all answers that chose this option, 0-100.")


class QuestionStatsOut(BaseModel):
    answered: int = Field(description="Answers counted so far (practice and exams, every learner).")
    percent_correct: float
    options: list[OptionShareOut] = Field(description="For the question's current options, in its order.")
    median_time_sec: int | None = Field(description="Median answer time, to the time histogram's resolution.")


class ItemAnalysisOut(BaseModel):
    exam_answered: int
    difficulty: float = Field(description="Share of exam answers that were correct (higher is easier).")
    discrimination: float | None = Field(description="Point-biserial with the rest of the paper's score.")
    distractors: dict[str, float] = Field(description="Wrong option id -> its choosers' point-biserial.")
    flags: list[str]


class StandingOut(BaseModel):
    percentile: float | None = Field(description="Share of sittings of this template scoring below (mid-rank), 0-100.")
    sat: int = Field(description="Sittings of the template counted so far.")
