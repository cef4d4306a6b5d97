"""Billing shapes."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.schemas import PatchModel

Feature = Literal["full_papers", "review_queue", "analytics"]
PlanCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")]


class PlanOut(BaseModel):
    code: str
    name: str
    price_pence: int
    currency: str
    interval: str = Field(description="month | year | none (the free plan)")
    features: list[str] = Field(description="What the plan unlocks: full_papers, review_queue, analytics.")
    daily_questions: int | None = Field(description="Practice questions a day; null: unlimited.")
    active: bool
    version: int


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: PlanCode
    name: Annotated[str, Field(min_length=1, max_length=80)]
    price_pence: Annotated[int, Field(ge=0, le=1_000_000)]
    currency: Literal["gbp", "eur", "usd"] = "gbp"
    interval: Literal["month", "year", "none"]
    features: list[Feature] = []
    daily_questions: Annotated[int, Field(ge=0, le=10_000)] | None = None
    provider_price_id: Annotated[str, Field(max_length=100)] | None = None
    active: bool = True
    order: Annotated[int, Field(ge=0, le=1000)] = 0


class PlanPatch(PatchModel):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"daily_questions", "provider_price_id"})

    name: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    price_pence: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    features: list[Feature] | None = None
    daily_questions: Annotated[int, Field(ge=0, le=10_000)] | None = None
    provider_price_id: Annotated[str, Field(max_length=100)] | None = None
    active: bool | None = None
    order: Annotated[int, Field(ge=0, le=1000)] | None = None
    version: int | None = Field(None, description="The version the edit is based on (409 if it changed).")


class SubscriptionOut(BaseModel):
    plan: str = Field(description="The plan in force now (free when none, lapsed or past the grace period).")
    subscribed_plan: str | None
    status: str = Field(description="none | active | trialing | past_due | canceled | incomplete")
    current_period_end: str | None
    cancel_at_period_end: bool
    grace_until: str | None = Field(description="After a failed payment: the plan stays until then.")


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: PlanCode


class CheckoutOut(BaseModel):
    url: str


class WebhookOut(BaseModel):
    received: bool
    handled: bool
    applied: bool | None = None


class LocalCheckoutOut(BaseModel):
    status: Literal["paid"]
    plan: str
