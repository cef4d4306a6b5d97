"""Shared response-model behaviour."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer


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
