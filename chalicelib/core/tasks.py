"""Work that must not run inside a request (large imports): queued here, run by the `task_worker`
Lambda (asynchronous invoke) when deployed, by a background thread locally, on demand in tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from chalicelib.core.config import get_settings
from chalicelib.core.observability import logger

Task = Callable[[dict[str, Any]], None]
TASKS: dict[str, Task] = {}
_pending: list[tuple[str, dict[str, Any]]] = []
_loaders: list[Callable[[], None]] = []
WORKER_FUNCTION = "task_worker"


def task(name: str) -> Callable[[Task], Task]:
    def register(fn: Task) -> Task:
        TASKS[name] = fn
        return fn

    return register


def install_loader(load: Callable[[], None]) -> None:
    """How to import the modules that declare tasks (app.py's list), for a process that runs a task
    it has not imported: the API's background thread locally, the worker when deployed."""
    _loaders[:] = [load]


def enqueue(name: str, payload: dict[str, Any]) -> None:
    backend = get_settings().task_backend
    if backend == "lambda":
        _invoke_worker(name, payload)
    elif backend == "thread":
        threading.Thread(target=run_task, args=(name, payload), name=f"task-{name}", daemon=True).start()
    else:  # "deferred": tests decide when the worker runs
        _pending.append((name, payload))


def _invoke_worker(name: str, payload: dict[str, Any]) -> None:
    import boto3

    settings = get_settings()
    boto3.client("lambda").invoke(
        FunctionName=f"openmrcs-{settings.stage}-{WORKER_FUNCTION}",
        InvocationType="Event",
        Payload=json.dumps({"task": name, "payload": payload}).encode(),
    )


def run_task(name: str, payload: dict[str, Any]) -> None:
    if name not in TASKS:
        for load in _loaders:
            load()
    logger.info("task started", extra={"task": name})
    try:
        TASKS[name](payload)
    except Exception:
        logger.exception("task failed", extra={"task": name})
        raise
    logger.info("task finished", extra={"task": name})


def handle_worker_event(event: dict[str, Any]) -> dict[str, Any]:
    run_task(str(event["task"]), dict(event["payload"]))
    return {"status": "done"}


def run_pending() -> int:
    """Run queued tasks (deferred backend); returns how many ran."""
    ran = 0
    while _pending:
        name, payload = _pending.pop(0)
        run_task(name, payload)
        ran += 1
    return ran


def discard_pending() -> None:
    """Forget queued tasks (deferred backend): tests start with an empty queue."""
    _pending.clear()
