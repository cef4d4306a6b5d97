"""Question report shapes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.pagination import PageQuery

Reason = Literal["wrong_key", "unclear", "outdated", "typo", "other"]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason
    comment: Annotated[str, Field(max_length=2000)] = ""


class ReportClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["resolved", "rejected"]
    note: Annotated[str, Field(min_length=1, max_length=2000)] = Field(description="Told to the reporter.")


class ReportOut(BaseModel):
    id: str
    question_id: str
    question_excerpt: str = Field(description="The start of the stem when it was reported.")
    reason: Reason
    comment: str
    status: Literal["open", "resolved", "rejected"]
    created_at: str
    closed_at: str | None
    note: str | None
    raised_by: Literal["learner", "item_analysis"] = Field(
        "learner", description="item_analysis: flagged by the nightly item analysis (the comment gives its figures)."
    )


class ReportedQuestion(BaseModel):
    question_id: str
    open_reports: int


class ReportQueue(BaseModel):
    reports: list[ReportOut] | None = Field(None, description="sort=newest: the reports, newest first.")
    questions: list[ReportedQuestion] | None = Field(
        None, description="sort=most_reported: questions with open reports, most reported first."
    )
    next_cursor: str | None


class ReportQuery(PageQuery):
    status: Literal["open", "resolved", "rejected"] = "open"
    sort: Literal["newest", "most_reported"] = Field("newest", description="most_reported: open reports only.")
