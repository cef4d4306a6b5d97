"""Periodic jobs by name: app.py schedules them, `python -m local_stack.jobs NAME` runs them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Job = Callable[[], dict[str, Any]]
JOBS: dict[str, Job] = {}


def job(name: str) -> Callable[[Job], Job]:
    def register(fn: Job) -> Job:
        JOBS[name] = fn
        return fn

    return register


def run_job(name: str) -> dict[str, Any]:
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}; known: {', '.join(sorted(JOBS)) or 'none'}")
    return JOBS[name]()
