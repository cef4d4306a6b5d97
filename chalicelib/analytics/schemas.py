"""Dashboard and analytics shapes (the dashboard's is the spec's, field for field)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.taxonomy.schemas import Slug


class OverallProgress(BaseModel):
    completed: int
    total: int


class Performance(BaseModel):
    avg_score_percent: float
    correct: int
    incorrect: int


class StudyTime(BaseModel):
    hours_this_week: float
    delta_vs_last_week: float


class LastPractice(BaseModel):
    days_ago: int
    score_percent: float
    correct: int
    incorrect: int
    categories: list[str]


class LastExam(BaseModel):
    days_ago: int
    exam: str
    score_percent: float
    time_spent_min: int
    answered: int


class RecentActivity(BaseModel):
    last_practice: LastPractice | None
    last_exam: LastExam | None


class SuggestedTopic(BaseModel):
    category: str
    slug: str
    score_percent: float | None
    reason: Literal["Low Score", "Not Started"]


class FeaturedResource(BaseModel):
    id: str
    kind: str
    title: str
    duration_sec: int
    url: str
    thumbnail_url: str | None
    alt_text: str


class Dashboard(BaseModel):
    overall_progress: OverallProgress
    performance: Performance
    study_time: StudyTime
    recent_activity: RecentActivity
    suggested_topics: list[SuggestedTopic]
    featured_resources: list[FeaturedResource]


class Overview(BaseModel):
    answered: int
    correct: int
    incorrect: int
    avg_score_percent: float
    categories_completed: int
    categories_total: int
    hours_this_week: float
    hours_last_14_days: float


class StudyTimeQuery(BaseModel):
    range: Literal["week", "month"] = "week"


class StudyDay(BaseModel):
    date: str
    minutes: float
    answered: int
    correct: int


class StudyTimeSeries(BaseModel):
    range: Literal["week", "month"]
    days: list[StudyDay]
    total_minutes: float


class CategoryStats(BaseModel):
    slug: str
    name: str
    answered: int
    correct: int
    score_percent: float
    last_practised_at: str | None
    subcategories: list[SubcategoryStats] = []


class SubcategoryStats(BaseModel):
    slug: str
    answered: int
    correct: int
    score_percent: float


class HeatmapDay(BaseModel):
    date: str
    answered: int


class TrendWeek(BaseModel):
    week_start: str
    answered: int
    correct: int
    score_percent: float | None


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[
        str,
        Field(
            min_length=8,
            max_length=64,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="Client-generated id; a replay of the same id counts once.",
        ),
    ]
    seconds: Annotated[int, Field(ge=1, le=120, description="On-page time since the last heartbeat (max 120).")]


class HeartbeatOut(BaseModel):
    counted: bool
    reason: Literal["counted", "duplicate", "daily_cap"]


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Slug


CategoryStats.model_rebuild()
