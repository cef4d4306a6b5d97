"""Scheduled work of notifications: announcements whose send time has come are sent."""

from __future__ import annotations

from typing import Any

from chalicelib.core.jobs import job
from chalicelib.notifications import service


@job("send_scheduled_notifications")
def send_scheduled_notifications() -> dict[str, Any]:
    return {"sent": service.send_due_broadcasts()}
