"""Practice request and response shapes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.cohort.schemas import QuestionStatsOut
from chalicelib.questions.schemas import QuestionPublic
from chalicelib.taxonomy.schemas import Slug

Pool = Literal["all", "unseen", "incorrect", "flagged", "due"]
QuestionId = Annotated[str, Field(min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionCreate(_Strict):
    categories: Annotated[list[Slug], Field(max_length=30)] = []
    subcategories: Annotated[list[Slug], Field(max_length=100)] = []
    question_count: Annotated[int, Field(ge=1, le=100)] = 20
    include_explanations: bool = True
    pool: Pool = "all"


class AttemptIn(_Strict):
    question_id: QuestionId
    selected_option_ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=10)]
    time_spent_sec: Annotated[int, Field(ge=0, le=3600)]
    confidence: Literal["guess", "unsure", "sure"] | None = Field(
        None, description="How sure the learner was (optional): shapes the spaced-review rating (docs/learning.md)."
    )


class FlagIn(_Strict):
    question_id: QuestionId
    flagged: bool = True


class AttemptResult(BaseModel):
    is_correct: bool
    correct_option_ids: list[str]
    explanation: str | None = None
    statistics: QuestionStatsOut = Field(
        description="How everyone answered this question before you (shown only once you have answered)."
    )


class Progress(BaseModel):
    answered: int
    correct: int
    total: int


class AnswerOut(BaseModel):
    question_id: str
    selected_option_ids: list[str]
    correct_option_ids: list[str]
    is_correct: bool
    time_spent_sec: int
    explanation: str | None = None


class SessionOut(BaseModel):
    id: str
    status: Literal["active", "completed"]
    categories: list[str]
    subcategories: list[str]
    pool: Pool
    include_explanations: bool
    question_count: int = Field(description="Questions in the session (may be fewer than requested).")
    requested: int
    shortfall_message: str | None
    question_ids: list[str]
    questions: list[QuestionPublic]
    progress: Progress
    answers: list[AnswerOut]
    started_at: str
    completed_at: str | None


class Summary(BaseModel):
    id: str
    answered: int
    correct: int
    incorrect: int
    unanswered: int
    score_percent: float
    time_spent_sec: int
    categories: list[str]
    started_at: str
    completed_at: str | None


class FlagOut(BaseModel):
    question_id: str
    flagged: bool
