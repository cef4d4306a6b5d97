"""Export everything the service holds about a user, or erase it. Each domain's data layer finds
its own items; this module only gathers them (it sits above every domain it reads)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from chalicelib.accounts import data as accounts
from chalicelib.accounts import service as account_service
from chalicelib.analytics import data as analytics
from chalicelib.audit import data as audit
from chalicelib.cohort import data as cohort
from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.db import TableItem, delete_items, kind_of, partition_items, user_pk
from chalicelib.core.errors import Unauthorized
from chalicelib.core.observability import logger
from chalicelib.core.security import Principal, verify_password
from chalicelib.core.tasks import enqueue, task
from chalicelib.core.timeutil import local_date
from chalicelib.exams import data as exams
from chalicelib.exams.data import ExamSession
from chalicelib.practice import data as practice
from chalicelib.practice.data import PracticeSession
from chalicelib.privacy import data, rules
from chalicelib.reports import service as reports

EXPORT_TASK = "privacy.export"
EXPORT_JOB_TTL_SEC = 86400  # a ready export stays fetchable (through fresh links) for a day


def _attached(own: list[TableItem]) -> list[TableItem]:
    """The partitions hanging off the user's own: session answers and exam states."""
    attached: list[TableItem] = []
    for item in own:
        if isinstance(item, PracticeSession):
            attached += practice.answers(item.session_id)
        elif isinstance(item, ExamSession):
            attached += exams.session_partition(item.session_id)
    return attached


def _items_of(user_id: str) -> tuple[list[TableItem], list[TableItem]]:
    own = partition_items(user_pk(user_id))
    return own, _attached(own)


def _document(user_id: str, own: list[TableItem]) -> dict[str, Any]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in [*own, *_attached(own), *reports.reports_for_export(own)]:
        grouped[kind_of(item)].append(rules.exportable(item.attribute_values))
    events = audit.events_for_entity("user", user_id)
    grouped["AuditEvent"] = [rules.exportable(e.attribute_values) for e in events]
    audit.record(audit.Change(user_id, "user.data_exported", "user", user_id))
    logger.info("data exported", extra={"user_id": user_id, "items": sum(map(len, grouped.values()))})
    return {"exported_at": clock.iso(clock.now()), "user_id": user_id, "items": dict(grouped)}


def _estimated_items(own: list[TableItem]) -> int:
    """The export's size from the user's partition alone: each session knows its answer count."""
    answers = sum(int(i.answered or 0) for i in own if isinstance(i, PracticeSession))
    answers += sum(sum(dict(i.parts).values()) + 2 for i in own if isinstance(i, ExamSession))  # + sheet, result
    return len(own) + answers


@dataclass(frozen=True)
class ExportOutcome:
    """Inline data, or a large export's state: preparing (202), then a short-lived link."""

    document: dict[str, Any] | None = None
    preparing: bool = False
    url: str | None = None


def export(principal: Principal) -> ExportOutcome:
    settings = get_settings()
    job = data.get_job(principal.user_id)
    if job is not None and (job.expires_at or 0) > clock.epoch():
        if job.status == "ready":
            return ExportOutcome(url=data.link(job.object_key, settings.export_link_ttl_sec))
        return ExportOutcome(preparing=True)
    own = partition_items(user_pk(principal.user_id))
    if _estimated_items(own) <= settings.export_inline_max_items:
        return ExportOutcome(document=_document(principal.user_id, own))
    if data.start_job(principal.user_id, clock.new_id(), clock.epoch(), EXPORT_JOB_TTL_SEC):
        enqueue(EXPORT_TASK, {"user_id": principal.user_id})
    return ExportOutcome(preparing=True)


@task(EXPORT_TASK)
def write_export(payload: dict[str, Any]) -> None:
    """The task worker: write the whole export to the bucket and mark the job ready. A retry
    rewrites the same file, so it is safe to run twice."""
    user_id = str(payload["user_id"])
    job = data.get_job(user_id)
    if job is None or job.status == "ready":
        return
    data.put_file(job.object_key, _document(user_id, partition_items(user_pk(user_id))))
    data.mark_ready(job)


def erase(principal: Principal, password: str, code: str | None) -> dict[str, int]:
    """Delete every item of the user. Their staff audit events stay, with the actor pseudonymised;
    events about them keep only their opaque id. Safe to retry: deletes are idempotent."""
    user = accounts.get_user(principal.user_id)
    if user is None:
        raise Unauthorized()
    if not verify_password(user.password_hash, password):
        raise Unauthorized("The password is not right.")
    if user.two_factor and (code is None or not account_service.check_second_factor(user, code)):
        raise Unauthorized("A current two-factor code is needed to delete the account.")
    own, attached = _items_of(principal.user_id)
    attached += accounts.one_time_tokens(principal.user_id)  # verification and reset links
    # the statistics kept for each sitting's review (keys only: a sitting may have none yet)
    attached += [cohort.paper_stats_ref(i.session_id) for i in own if isinstance(i, ExamSession)]
    today = local_date(clock.now(), "UTC")
    markers = analytics.active_markers(principal.user_id, rules.active_days(today))
    claim = accounts.email_claim_ref(user.email)
    # Attached partitions first and the profile last: a crash part-way leaves a profile from which
    # the user (or a retry) can finish the erasure.
    profile = [i for i in own if isinstance(i, accounts.UserItem)]
    rest = [i for i in own if not isinstance(i, accounts.UserItem)]
    delete_items(markers)  # keys only: some of these days may have no marker
    reports.forget_reporter(own)  # before the pointers to them go with the partition
    deleted = delete_items([*attached, *rest])
    pseudonymised = 0
    alias = rules.pseudonym(principal.user_id)
    for event in audit.events_by_actor(principal.user_id):
        audit.pseudonymise_actor(event, alias)
        pseudonymised += 1
    for event in audit.events_for_entity("user", principal.user_id):
        audit.pseudonymise_subject(event, alias)
        pseudonymised += 1
    audit.record(audit.Change(alias, "user.erased", "user", alias, after={"items": len(own) + len(attached)}))
    accounts.erased_marker(principal.user_id, clock.epoch()).save()  # before the profile goes
    deleted += delete_items([claim, *profile])
    data.delete_files(principal.user_id)
    account_service.forget_user(principal.user_id)
    logger.info("account erased", extra={"user_id": principal.user_id, "items": deleted})
    return {"deleted_items": deleted, "pseudonymised_audit_events": pseudonymised}
