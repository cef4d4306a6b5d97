"""Shared request- and response-model behaviour."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError


class StaffFieldsModel(BaseModel):
    """A response that carries a few staff-only fields: learners' payloads omit them entirely
    rather than showing them as null."""

    staff_only: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_absent_staff_fields(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.staff_only:
                if data.get(name) is None:
                    data.pop(name, None)
        return data


def _omit_null_from_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Fields of a patch may be omitted, but only `nullable_fields` accept null: say so in the
    OpenAPI document too (pydantic would otherwise document `anyOf: [..., null]`)."""
    nullable: frozenset[str] = getattr(model, "nullable_fields", frozenset())
    for name, prop in schema.get("properties", {}).items():
        variants = prop.get("anyOf")
        if name in nullable or not isinstance(variants, list):
            continue
        kept = [v for v in variants if v != {"type": "null"}]
        if len(kept) == 1:
            prop.pop("anyOf")
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept
        if prop.get("default", "absent") is None:
            prop.pop("default")


class PatchModel(BaseModel):
    """A partial update: each field may be omitted, none may be null (unless listed in
    `nullable_fields`, meaning "clear it"), and at least one field must be given."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_omit_null_from_schema)
    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable_fields:
            raise PydanticCustomError("null_not_allowed", "May be omitted, but not null.")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> PatchModel:
        if not self.model_fields_set:
            raise ValueError("Give at least one field to change.")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as JSON-ready values."""
        return self.model_dump(mode="json", exclude_unset=True)
