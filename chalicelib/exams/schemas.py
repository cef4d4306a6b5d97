"""Exam shapes: templates as the spec lists them, sessions without answers, review after submission."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from chalicelib.cohort.schemas import QuestionStatsOut, StandingOut
from chalicelib.core.schemas import PatchModel
from chalicelib.questions.schemas import QuestionPublic
from chalicelib.taxonomy.schemas import Slug

Name = Annotated[str, Field(min_length=1, max_length=120)]


class TemplateOut(BaseModel):
    id: str
    name: str
    paper: str
    duration_minutes: int
    total_questions: int
    description: str
    pass_mark_percent: float


class TemplateStaffOut(TemplateOut):
    status: Literal["active", "retired"]
    shuffle_questions: bool
    shuffle_options: bool
    blueprint: dict[str, int] | None
    question_ids: list[str] | None


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    paper: Annotated[str, Field(min_length=1, max_length=32)]
    duration_minutes: Annotated[int, Field(ge=1, le=600)]
    total_questions: Annotated[int, Field(ge=1, le=300)]
    description: Annotated[str, Field(max_length=2000)] = ""
    pass_mark_percent: Annotated[float, Field(ge=0, le=100)] = 60.0
    question_ids: Annotated[list[str], Field(max_length=300)] | None = None
    blueprint: dict[Slug, Annotated[int, Field(ge=1, le=300)]] | None = None
    shuffle_questions: bool = True
    shuffle_options: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.question_ids is None) == (self.blueprint is None):
            raise ValueError("give either question_ids (a fixed paper) or blueprint (drawn per session)")
        count = len(self.question_ids) if self.question_ids is not None else sum((self.blueprint or {}).values())
        if count != self.total_questions:
            raise ValueError(f"the questions add up to {count}, not total_questions ({self.total_questions})")
        if self.question_ids is not None and len(set(self.question_ids)) != len(self.question_ids):
            raise ValueError("question_ids must not repeat")
        return self


class TemplatePatch(PatchModel):
    name: Name | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    duration_minutes: Annotated[int, Field(ge=1, le=600)] | None = None
    pass_mark_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    status: Literal["active", "retired"] | None = None
    shuffle_questions: bool | None = None
    shuffle_options: bool | None = None


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: Annotated[str, Field(min_length=1, max_length=64)]


QuestionId = Annotated[str, Field(min_length=1, max_length=64)]
OptionIds = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=10)]
TimeSpent = Annotated[int, Field(ge=0, le=24 * 3600, description="Total seconds spent on this question so far.")]


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: QuestionId
    selected_option_ids: OptionIds = []
    time_spent_sec: TimeSpent | None = None
    flagged: bool | None = None


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: Annotated[list[AnswerIn], Field(min_length=1, max_length=90)]


class ExamAttemptIn(BaseModel):
    """One answer, as the spec's `POST /exams/sessions/{id}/attempts` sends it."""

    model_config = ConfigDict(extra="forbid")

    question_id: QuestionId
    selected_option_ids: OptionIds
    time_spent_sec: TimeSpent = 0


class ExamAttemptBatch(BaseModel):
    """Several answers at once: `{attempts: [...]}`."""

    model_config = ConfigDict(extra="forbid")

    attempts: Annotated[list[ExamAttemptIn], Field(min_length=1, max_length=90)]


class ExamAttemptsIn(RootModel[ExamAttemptIn | ExamAttemptBatch]):
    """A single attempt or a batch; either way the answers are saved until submission."""

    def as_answers(self) -> AnswersIn:
        attempts = self.root.attempts if isinstance(self.root, ExamAttemptBatch) else [self.root]
        return AnswersIn(answers=[AnswerIn(**a.model_dump()) for a in attempts])


class SavedAnswer(BaseModel):
    question_id: str
    selected_option_ids: list[str]
    time_spent_sec: int
    flagged: bool


class SessionOut(BaseModel):
    id: str
    template: dict[str, str]
    status: Literal["in_progress", "submitted"]
    started_at: str
    deadline_at: str
    remaining_sec: int
    questions: list[QuestionPublic]
    answers: list[SavedAnswer]


class SaveResult(BaseModel):
    saved: int
    remaining_sec: int


class Result(BaseModel):
    id: str
    template: dict[str, str]
    score_percent: float
    correct: int
    answered: int
    total: int
    passed: bool
    time_spent_sec: int
    submitted_at: str
    submitted_by: Literal["learner", "deadline"]


class HistoryItem(BaseModel):
    id: str
    template: dict[str, str]
    status: Literal["in_progress", "submitted"]
    score_percent: float | None
    passed: bool | None
    time_spent_sec: int | None
    started_at: str
    submitted_at: str | None


class ReviewAttempt(BaseModel):
    question_id: str
    category: str
    selected_option_ids: list[str]
    correct_option_ids: list[str]
    is_correct: bool
    time_spent_sec: int
    explanation: str
    statistics: QuestionStatsOut | None = Field(
        description="How everyone answered this question (practice and exams), as of when this sitting was counted "
        "into the statistics; null in the seconds after submitting, before it is."
    )


class CategoryBreakdown(BaseModel):
    category: str
    total: int
    correct: int
    score_percent: float


class Review(BaseModel):
    id: str
    template: dict[str, str]
    score_percent: float
    passed: bool
    standing: StandingOut = Field(description="Where this score stands among every sitting of the template.")
    attempts: list[ReviewAttempt]
    categories: list[CategoryBreakdown]


class AccommodationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extra_time_percent: Annotated[int, Field(ge=0, le=100)]
