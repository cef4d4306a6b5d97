"""Scheduled exam jobs."""

from __future__ import annotations

from typing import Any

from chalicelib.core.jobs import job
from chalicelib.exams.service import expire_due_sessions


@job("expire_exam_sessions")
def expire_exam_sessions() -> dict[str, Any]:
    """Every 5 minutes: submit abandoned sessions whose time ran out (Queries the due index)."""
    return {"submitted": expire_due_sessions()}
