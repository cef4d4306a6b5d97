"""Resource shapes: the spec's fields plus captions and alt text for accessibility."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from chalicelib.core.pagination import PageQuery
from chalicelib.core.schemas import PatchModel, StaffFieldsModel
from chalicelib.taxonomy.schemas import Slug

Kind = Literal["video", "seminar", "article"]
Url = Annotated[HttpUrl, Field(max_length=2048)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    title: Title
    author: Annotated[str, Field(max_length=120)] = ""
    duration_sec: Annotated[int, Field(ge=0, le=24 * 3600)] = 0
    category: Slug | None = None
    url: Url
    thumbnail_url: Url | None = None
    captions_url: Url | None = None
    alt_text: Annotated[str, Field(max_length=500)] = ""
    is_featured: bool = False
    status: Literal["draft", "published"] = "draft"


class ResourcePatch(PatchModel):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"category", "thumbnail_url", "captions_url"})

    kind: Kind | None = None
    title: Title | None = None
    author: Annotated[str, Field(max_length=120)] | None = None
    duration_sec: Annotated[int, Field(ge=0, le=24 * 3600)] | None = None
    category: Slug | None = None
    url: Url | None = None
    thumbnail_url: Url | None = None
    captions_url: Url | None = None
    alt_text: Annotated[str, Field(max_length=500)] | None = None
    is_featured: bool | None = None
    status: Literal["draft", "published"] | None = None
    version: int | None = Field(
        None, ge=1, description="The version the change is based on (from a staff read): a newer one makes this a 409."
    )


class ResourceOut(StaffFieldsModel):
    staff_only: ClassVar[frozenset[str]] = frozenset({"status", "version"})

    id: str
    kind: Kind
    title: str
    author: str
    duration_sec: int
    category: str | None
    url: str
    thumbnail_url: str | None
    captions_url: str | None
    alt_text: str
    is_featured: bool
    published_at: str | None
    status: Literal["draft", "published"] | None = None  # staff only
    version: int | None = None  # staff only


class ResourceQuery(PageQuery):
    featured: bool | None = None
    category: Slug | None = None
    kind: Kind | None = None
    status: Literal["draft", "published"] | None = Field(None, description="Staff only.")
