"""Question shapes. Learner views never carry `is_correct`, the explanation or the reference."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

from chalicelib.cohort.schemas import ItemAnalysisOut, QuestionStatsOut
from chalicelib.core.pagination import PageQuery
from chalicelib.review.schemas import CardView
from chalicelib.taxonomy.schemas import Slug

QuestionType = Literal["single", "multi"]
QuestionStatus = Literal["draft", "published", "archived"]
OptionId = Annotated[str, StringConstraints(pattern=r"^o_[a-z0-9]{6,32}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionIn(_Strict):
    id: OptionId | None = Field(None, description="Keep an existing option's id when editing; omit for a new one.")
    text: Text
    is_correct: bool


class MediaIn(_Strict):
    url: Annotated[HttpUrl, Field(max_length=2048)]
    kind: Literal["image", "audio", "video"]
    alt_text: Annotated[str, Field(max_length=500)] = ""
    caption: Annotated[str, Field(max_length=500)] = ""


class QuestionIn(_Strict):
    stem: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000)]
    type: QuestionType = "single"
    category: Slug
    subcategory: Slug | None = None
    difficulty: Annotated[int, Field(ge=1, le=5)] = 3
    options: Annotated[list[OptionIn], Field(min_length=2, max_length=10)]
    media: Annotated[list[MediaIn], Field(max_length=10)] = []
    explanation: Annotated[str, Field(max_length=10_000)] = ""
    reference: Annotated[str, Field(max_length=2000)] = ""
    status: QuestionStatus = "draft"
    version: int | None = Field(
        None,
        ge=1,
        description="Editing: the version the change is based on (from GET). If the question has been "
        "saved since, the edit is refused with 409 instead of overwriting the other change.",
    )

    @model_validator(mode="after")
    def _options_are_coherent(self) -> Self:
        correct = sum(option.is_correct for option in self.options)
        if self.type == "single" and correct != 1:
            raise ValueError("a single best answer question needs exactly one correct option")
        if self.type == "multi" and correct < 1:
            raise ValueError("a multiple response question needs at least one correct option")
        ids = [option.id for option in self.options if option.id]
        if len(ids) != len(set(ids)):
            raise ValueError("option ids must be unique")
        texts = [option.text.lower() for option in self.options]
        if len(texts) != len(set(texts)):
            raise ValueError("option texts must be unique")
        return self


class QuestionPatch(_Strict):
    stem: str | None = None
    type: QuestionType | None = None
    category: Slug | None = None
    subcategory: Slug | None = None
    difficulty: int | None = None
    options: list[OptionIn] | None = None
    media: list[MediaIn] | None = None
    explanation: str | None = None
    reference: str | None = None
    status: QuestionStatus | None = None
    version: int | None = Field(None, ge=1, description="As in QuestionIn: the version the change is based on.")


class OptionPublic(BaseModel):
    id: str
    text: str


class MediaOut(BaseModel):
    url: str
    kind: str
    alt_text: str
    caption: str


class QuestionPublic(BaseModel):
    id: str
    stem: str
    type: QuestionType
    options: list[OptionPublic]
    media: list[MediaOut]
    category: str
    subcategory: str | None
    difficulty: int


class QuestionForLearner(QuestionPublic):
    review: CardView | None = Field(
        None, description="The learner's spaced-review card, once they have answered it: recall probability now."
    )
    statistics: QuestionStatsOut | None = Field(
        None, description="How everyone answered it: only once the learner has answered it themselves."
    )


class OptionStaff(OptionPublic):
    is_correct: bool


class QuestionStaff(BaseModel):
    id: str
    stem: str
    type: QuestionType
    options: list[OptionStaff]
    media: list[MediaOut]
    category: str
    subcategory: str | None
    difficulty: int
    explanation: str
    reference: str
    status: QuestionStatus
    version: int
    created_at: str
    updated_at: str
    statistics: QuestionStatsOut | None = Field(None, description="GET /questions/{id} only: how everyone answered.")
    item_analysis: ItemAnalysisOut | None = Field(
        None, description="GET /questions/{id} only: from exam answers, once there are enough of them."
    )
    last_remark: dict[str, Any] | None = Field(
        None, description="GET /questions/{id} only: the newest re-marking of past exams a key change caused."
    )


class VersionOut(BaseModel):
    version: int
    edited_by: str
    edited_at: str
    question: QuestionStaff


class QuestionQuery(PageQuery):
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        None,
        description="Words the stem or an option must all contain (whole words, any case and accents; "
        "common words ignored). Results come newest first unless order=asc.",
    )
    order: Literal["asc", "desc"] | None = Field(
        None,
        description="asc or desc. Without q: by category, subcategory, difficulty (asc by default). "
        "With q: by creation time (desc, newest first, by default).",
    )
    category: Slug | None = None
    subcategory: Slug | None = None
    difficulty: Annotated[int, Field(ge=1, le=5)] | None = None
    type: QuestionType | None = None
    status: QuestionStatus | None = Field(None, description="Staff only; learners always get published.")

    @model_validator(mode="after")
    def _subcategory_needs_category(self) -> Self:
        if self.subcategory and not self.category:
            raise ValueError("subcategory filter needs a category filter")
        return self


class ImportQuery(BaseModel):
    dry_run: bool = Field(False, description="Validate and report only; write nothing.")


class RowError(BaseModel):
    field: str
    message: str


class ImportRowOut(BaseModel):
    row: int = Field(description="1-based position of the row in the upload (CSV: data rows after the header).")
    outcome: Literal["failed", "skipped"]
    errors: list[RowError]


class ImportJobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "completed", "failed"]
    dry_run: bool
    source: Literal["json", "csv"]
    total: int
    created: int
    skipped: int
    failed: int
    created_at: str
    finished_at: str | None
    rows: list[ImportRowOut]
