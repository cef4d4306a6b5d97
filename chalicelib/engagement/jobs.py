"""Scheduled jobs and queued tasks of engagement (runnable locally: `make job NAME=...`)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.jobs import job
from chalicelib.core.tasks import task
from chalicelib.engagement import service
from chalicelib.notifications.service import DELIVER_TASK


@job("send_study_reminders")
def send_study_reminders() -> dict[str, Any]:
    """Hourly: learners whose 18:00 it is and who have not studied for 3 days."""
    return service.send_study_reminders()


@job("send_weekly_summaries")
def send_weekly_summaries() -> dict[str, Any]:
    """Hourly: learners whose Monday 08:00 it is get last week's summary."""
    return service.send_weekly_summaries()


@task(DELIVER_TASK)
def deliver_broadcast(payload: dict[str, Any]) -> None:
    service.deliver_broadcast(payload)
