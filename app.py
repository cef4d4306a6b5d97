"""OpenMRCS API: declares routes (one Blueprint per domain), the table stream handler, the task
worker and the schedules. The code lives in chalicelib/; this file only wires it to Lambda."""

from __future__ import annotations

import os
from typing import Any

from chalice.app import Chalice, Cron, DynamoDBEvent, Rate

from chalicelib.accounts import routes as accounts
from chalicelib.accounts.service import current_principal
from chalicelib.analytics import jobs as analytics_jobs
from chalicelib.analytics import pipeline  # noqa: F401  (registers the stream consumers)
from chalicelib.analytics import reconcile as analytics_reconcile
from chalicelib.analytics import routes as analytics
from chalicelib.audit import routes as audit
from chalicelib.core.http import API_PREFIX, http_middleware, install_method_fallbacks, install_session_check
from chalicelib.core.jobs import run_job
from chalicelib.core.streams import process_stream_event
from chalicelib.core.tasks import handle_worker_event
from chalicelib.exams import jobs as exam_jobs
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

# Set per stage in .chalice/config.json from the infra stack's TableStreamArn output.
TABLE_STREAM_ARN = os.environ.get(
    "TABLE_STREAM_ARN", "arn:aws:dynamodb:eu-west-2:000000000000:table/openmrcs-dev/stream/local"
)


@app.on_dynamodb_record(stream_arn=TABLE_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def table_stream(event: DynamoDBEvent) -> dict[str, Any]:
    return process_stream_event(event.to_dict(), event.context)


@app.lambda_function(name="task_worker")
def task_worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Runs work queued outside a request (question imports), invoked asynchronously."""
    return handle_worker_event(event)


@app.schedule(Cron(0, 3, "*", "*", "?", "*"), name="recompute_suggestions")
def recompute_suggestions(event: Any) -> dict[str, Any]:
    return run_job(analytics_jobs.recompute_suggestions.__name__)


@app.schedule(Cron(0, 4, "?", "*", "SUN", "*"), name="reconcile_learners")
def reconcile_learners(event: Any) -> dict[str, Any]:
    """A weekly safety net; run it at once (`make job NAME=reconcile_active_learners`) after a failure-queue alarm."""
    return run_job(analytics_reconcile.reconcile_active_learners.__name__)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="expire_exam_sessions")
def expire_exam_sessions(event: Any) -> dict[str, Any]:
    return run_job(exam_jobs.expire_exam_sessions.__name__)
