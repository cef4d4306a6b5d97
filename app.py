"""OpenMRCS API: declares routes (one Blueprint per domain), the table stream handler, the task
worker and the schedules. The code lives in chalicelib/; this file only wires it to Lambda."""

from __future__ import annotations

import importlib
import os
from typing import Any

from chalice.app import Chalice, Cron, DynamoDBEvent, Rate

from chalicelib.accounts import routes as accounts
from chalicelib.accounts.service import current_principal
from chalicelib.analytics import routes as analytics
from chalicelib.audit import routes as audit
from chalicelib.core.db import warm_up
from chalicelib.core.http import API_PREFIX, http_middleware, install_method_fallbacks, install_session_check
from chalicelib.core.tasks import handle_worker_event
from chalicelib.exams import routes as exams
from chalicelib.pages import routes as pages
from chalicelib.practice import routes as practice
from chalicelib.privacy import routes as privacy
from chalicelib.questions import routes as questions
from chalicelib.resources import routes as resources
from chalicelib.system import routes as system
from chalicelib.taxonomy import routes as taxonomy

app = Chalice(app_name="openmrcs")
app.register_middleware(http_middleware, "http")

BLUEPRINTS = (
    system.bp,
    accounts.bp,
    taxonomy.bp,
    questions.bp,
    resources.bp,
    pages.bp,
    audit.bp,
    practice.bp,
    exams.bp,
    analytics.bp,
    privacy.bp,
)
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint, url_prefix=API_PREFIX)
install_method_fallbacks(app)
install_session_check(current_principal)  # every token's session and role are checked against the table
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # on Lambda only: tests and tooling import without AWS
    warm_up()

# Set per stage in .chalice/config.json from the infra stack's TableStreamArn output.
TABLE_STREAM_ARN = os.environ.get(
    "TABLE_STREAM_ARN", "arn:aws:dynamodb:eu-west-2:000000000000:table/openmrcs-dev/stream/local"
)


# Each Lambda function imports this module; what only the stream handler or the jobs need is
# imported on their first invocation, so the API's cold start does not pay for it.
STREAM_CONSUMERS = ("chalicelib.analytics.pipeline",)
JOB_MODULES = ("chalicelib.analytics.jobs", "chalicelib.analytics.reconcile", "chalicelib.exams.jobs")


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


@app.lambda_function(name="task_worker")
def task_worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Runs work queued outside a request (question imports), invoked asynchronously."""
    return handle_worker_event(event)


def _run_job(name: str) -> dict[str, Any]:
    from chalicelib.core.jobs import run_job

    load_jobs()
    return run_job(name)


@app.schedule(Cron(0, 3, "*", "*", "?", "*"), name="recompute_suggestions")
def recompute_suggestions(event: Any) -> dict[str, Any]:
    return _run_job("recompute_suggestions")


@app.schedule(Cron(0, 4, "?", "*", "SUN", "*"), name="reconcile_learners")
def reconcile_learners(event: Any) -> dict[str, Any]:
    """A weekly safety net; run at once after a failure-queue alarm (`make reconcile ... ACTIVE=1`)."""
    return _run_job("reconcile_active_learners")


@app.schedule(Rate(5, unit=Rate.MINUTES), name="expire_exam_sessions")
def expire_exam_sessions(event: Any) -> dict[str, Any]:
    return _run_job("expire_exam_sessions")
