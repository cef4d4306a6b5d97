"""OpenMRCS API: declares routes (one Blueprint per domain), the table stream handler, the task
worker and the schedules. The code lives in chalicelib/; this file only wires it to Lambda."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Cron, DynamoDBEvent, Rate

from chalicelib.core.routing import (
    API_PREFIX,
    before_first_request,
    http_middleware,
    install_method_fallbacks,
    register_routes,
)
from chalicelib.route_index import ROUTES
from chalicelib.system.console import add_console_routes

if TYPE_CHECKING:
    from chalicelib.core.security import Principal

# Chalice's own log handler sits on the logger named after the app, which is also powertools' logger:
# with both, every line was written twice (once as JSON, once as plain text).
app = Chalice(app_name="openmrcs", configure_logs=False)
app.register_middleware(http_middleware, "http")

# Every route is declared by its domain (`endpoint` in chalicelib/<domain>/routes.py) and registered
# here from the generated index, so a cold start imports no domain: a route's domain is imported by
# its first request (chalicelib/core/routing.py).
register_routes(app, API_PREFIX, ROUTES)
add_console_routes(app)  # the staff console's static files, same deployment (chalicelib/console/)
install_method_fallbacks(app)


def _current_principal(claimed: Principal) -> Principal:
    from chalicelib.accounts.service import current_principal  # on the first request with a token

    return current_principal(claimed)


@before_first_request
def _wire_the_edge() -> None:
    """Every token's session and role are checked against the table by the accounts domain."""
    from chalicelib.core.http import install_session_check
    from chalicelib.core.tasks import install_loader

    install_session_check(_current_principal)
    install_loader(load_tasks)  # a task queued by a request (locally: run in a thread) finds its module


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # on Lambda only: tests and tooling import without AWS
    from chalicelib.core.lambda_init import collector_paused_then_frozen

    with collector_paused_then_frozen():  # init's objects live as long as the container
        from chalicelib.core.db import warm_up

        warm_up()  # the DynamoDB client and its connection, created at init (not in the first request)

# Set per stage in .chalice/config.json from the infra stack's TableStreamArn output.
TABLE_STREAM_ARN = os.environ.get(
    "TABLE_STREAM_ARN", "arn:aws:dynamodb:eu-west-2:000000000000:table/openmrcs-dev/stream/local"
)


# Each Lambda function imports this module; what only the stream handler or the jobs need is
# imported on their first invocation, so the API's cold start does not pay for it.
STREAM_CONSUMERS = ("chalicelib.analytics.pipeline", "chalicelib.questions.indexer", "chalicelib.remarking.service")
JOB_MODULES = (
    "chalicelib.accounts.jobs",
    "chalicelib.analytics.jobs",
    "chalicelib.analytics.reconcile",
    "chalicelib.cohort.jobs",
    "chalicelib.exams.jobs",
    "chalicelib.notifications.jobs",
    "chalicelib.engagement.jobs",
    "chalicelib.questions.indexer",
    "chalicelib.reports.jobs",
)


def load_stream_consumers() -> None:
    for module in STREAM_CONSUMERS:
        importlib.import_module(module)


def load_jobs() -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)


@app.on_dynamodb_record(stream_arn=TABLE_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def table_stream(event: DynamoDBEvent) -> dict[str, Any]:
    from chalicelib.core.streams import process_stream_event

    load_stream_consumers()
    return process_stream_event(event.to_dict(), event.context)


TASK_MODULES = (
    "chalicelib.questions.imports",
    "chalicelib.privacy.service",
    "chalicelib.engagement.jobs",
    "chalicelib.remarking.service",
)


def load_tasks() -> None:
    for module in TASK_MODULES:
        importlib.import_module(module)


@app.lambda_function(name="task_worker")
def task_worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Runs work queued outside a request (question imports, data exports), invoked asynchronously."""
    from chalicelib.core.tasks import handle_worker_event

    load_tasks()
    return handle_worker_event(event)


def _run_job(name: str) -> dict[str, Any]:
    from chalicelib.core.jobs import run_job

    load_jobs()
    return run_job(name)


@app.schedule(Cron(0, 3, "*", "*", "?", "*"), name="recompute_suggestions")
def recompute_suggestions(event: Any) -> dict[str, Any]:
    return _run_job("recompute_suggestions")


@app.schedule(Rate(1, unit=Rate.MINUTES), name="roll_up_question_statistics")
def roll_up_question_statistics(event: Any) -> dict[str, Any]:
    """Answers applied through the cohort's ledger join their questions' statistics."""
    return _run_job("roll_up_question_statistics")


@app.schedule(Cron(30, 2, "*", "*", "?", "*"), name="flag_questions_by_item_analysis")
def flag_questions_by_item_analysis(event: Any) -> dict[str, Any]:
    """Nightly: questions whose exam statistics look wrong go to the editors' report queue."""
    return _run_job("flag_questions_by_item_analysis")


@app.schedule(Cron(0, 4, "?", "*", "SUN", "*"), name="reconcile_learners")
def reconcile_learners(event: Any) -> dict[str, Any]:
    """A weekly safety net; run at once after a failure-queue alarm (`make reconcile ... ACTIVE=1`)."""
    return _run_job("reconcile_active_learners")


@app.schedule(Rate(5, unit=Rate.MINUTES), name="send_scheduled_notifications")
def send_scheduled_notifications(event: Any) -> dict[str, Any]:
    return _run_job("send_scheduled_notifications")


@app.schedule(Cron(0, "*", "*", "*", "?", "*"), name="send_study_reminders")
def send_study_reminders(event: Any) -> dict[str, Any]:
    """Hourly: each learner is reminded at 18:00 in their own zone."""
    return _run_job("send_study_reminders")


@app.schedule(Cron(5, "*", "?", "*", "MON,SUN", "*"), name="send_weekly_summaries")
def send_weekly_summaries(event: Any) -> dict[str, Any]:
    """Hourly on the UTC Sundays and Mondays that hold every zone's Monday 08:00."""
    return _run_job("send_weekly_summaries")


@app.schedule(Rate(5, unit=Rate.MINUTES), name="expire_exam_sessions")
def expire_exam_sessions(event: Any) -> dict[str, Any]:
    return _run_job("expire_exam_sessions")
