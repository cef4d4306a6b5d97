"""Request and response shapes of the privacy endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class DataExport(BaseModel):
    exported_at: str
    user_id: str
    items: dict[str, list[dict[str, Any]]] = Field(
        description="Everything held about the user, by item type (profile, sessions and devices, practice and "
        "exam sessions with every answer, aggregates, daily stats, question states, dismissals, audit events "
        "about the user). Never credentials or token digests."
    )


class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Annotated[str, Field(min_length=1, max_length=128)]
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=20)] | None = Field(
        None, description="A current two-factor code (or a recovery code) when two-factor sign-in is on."
    )


class Erased(BaseModel):
    deleted_items: int
    pseudonymised_audit_events: int


class ExportPreparing(BaseModel):
    status: str = "preparing"
    message: str = "Your export is being prepared; ask again shortly."


class ExportLink(BaseModel):
    url: str = Field(description="A presigned download link for the export file.")
    expires_in: int = Field(description="Seconds the link stays valid; ask again for a fresh one.")
