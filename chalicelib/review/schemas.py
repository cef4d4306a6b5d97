"""Spaced-review shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DueCard(BaseModel):
    question_id: str
    due: str = Field(description="When the card fell due (ISO 8601, UTC).")
    overdue_days: int
    recall_probability: float = Field(description="FSRS's predicted chance of recalling it now, 0-1.")


class QueueOut(BaseModel):
    items: list[DueCard]
    reviewed_today: int
    new_today: int
    remaining_today: int = Field(description="Reviews still allowed today (the daily limit minus today's).")
    daily_review_limit: int


class ForecastDay(BaseModel):
    date: str
    due: int


class ForecastOut(BaseModel):
    timezone: str
    days: list[ForecastDay]


class CardView(BaseModel):
    recall_probability: float
    due: str
    reviews: int
