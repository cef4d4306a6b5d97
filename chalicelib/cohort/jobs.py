"""Scheduled work of the cohort's statistics."""

from __future__ import annotations

from typing import Any

from chalicelib.cohort import service
from chalicelib.core import clock
from chalicelib.core.jobs import job


@job("roll_up_question_statistics")
def roll_up_question_statistics() -> dict[str, Any]:
    """Every minute: the ledger's waiting answers join their questions' statistics."""
    return service.roll_up(clock.now())
