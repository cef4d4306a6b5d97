"""Scheduled work of question reports."""

from __future__ import annotations

from typing import Any

from chalicelib.core.jobs import job
from chalicelib.reports import service


@job("flag_questions_by_item_analysis")
def flag_questions_by_item_analysis() -> dict[str, Any]:
    return service.flag_by_item_analysis()
