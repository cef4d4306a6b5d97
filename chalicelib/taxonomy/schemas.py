"""Request and response shapes of the taxonomy endpoints."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.core.schemas import PatchModel, StaffFieldsModel

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=2, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Description = Annotated[str, Field(max_length=2000)]
Order = Annotated[int, Field(ge=0, le=10_000)]
Status = Literal["active", "retired"]


class Progress(BaseModel):
    answered: int = 0
    correct: int = 0
    score_percent: float = 0.0


class SubcategoryOut(StaffFieldsModel):
    staff_only: ClassVar[frozenset[str]] = frozenset({"status"})

    slug: str
    name: str
    description: str
    order: int
    question_count: int
    progress: Progress
    status: Status | None = None  # staff only


class CategoryOut(StaffFieldsModel):
    staff_only: ClassVar[frozenset[str]] = frozenset({"status"})

    slug: str
    name: str
    description: str
    order: int
    question_count: int
    progress: Progress
    status: Status | None = None  # staff only


class CategoryDetail(CategoryOut):
    subcategories: list[SubcategoryOut]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NodeCreate(_Strict):
    slug: Slug
    name: Name
    description: Description = ""
    order: Order = 0


class NodeUpdate(PatchModel):
    name: Name | None = None
    description: Description | None = None
    order: Order | None = None
    status: Status | None = None
