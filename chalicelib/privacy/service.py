"""Export everything the service holds about a user, or erase it. Each domain's data layer finds
its own items; this module only gathers them (it sits above every domain it reads)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from chalicelib.accounts import data as accounts
from chalicelib.accounts import service as account_service
from chalicelib.analytics import data as analytics
from chalicelib.audit import data as audit
from chalicelib.core import clock
from chalicelib.core.db import TableItem, delete_items, kind_of, partition_items, user_pk
from chalicelib.core.errors import Unauthorized
from chalicelib.core.observability import logger
from chalicelib.core.security import Principal, verify_password
from chalicelib.core.timeutil import local_date
from chalicelib.exams import data as exams
from chalicelib.exams.data import ExamSession
from chalicelib.practice import data as practice
from chalicelib.practice.data import PracticeSession
from chalicelib.privacy import rules


def _items_of(user_id: str) -> tuple[list[TableItem], list[TableItem]]:
    """(the user's own partition, the partitions hanging off it: session answers and states)."""
    own = partition_items(user_pk(user_id))
    attached: list[TableItem] = []
    for item in own:
        if isinstance(item, PracticeSession):
            attached += practice.answers(item.session_id)
        elif isinstance(item, ExamSession):
            attached += exams.session_partition(item.session_id)
    return own, attached


def export(principal: Principal) -> dict[str, Any]:
    own, attached = _items_of(principal.user_id)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in [*own, *attached]:
        grouped[kind_of(item)].append(rules.exportable(item.attribute_values))
    events = audit.events_for_entity("user", principal.user_id)
    grouped["AuditEvent"] = [rules.exportable(e.attribute_values) for e in events]
    audit.record(audit.Change(principal.user_id, "user.data_exported", "user", principal.user_id))
    logger.info("data exported", extra={"user_id": principal.user_id, "items": sum(map(len, grouped.values()))})
    return {"exported_at": clock.iso(clock.now()), "user_id": principal.user_id, "items": dict(grouped)}


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
    today = local_date(clock.now(), "UTC")
    markers = analytics.active_markers(principal.user_id, rules.active_days(today))
    claim = accounts.email_claim_ref(user.email)
    # Attached partitions first and the profile last: a crash part-way leaves a profile from which
    # the user (or a retry) can finish the erasure.
    profile = [i for i in own if isinstance(i, accounts.UserItem)]
    rest = [i for i in own if not isinstance(i, accounts.UserItem)]
    delete_items(markers)  # keys only: some of these days may have no marker
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
    account_service.forget_user(principal.user_id)
    logger.info("account erased", extra={"user_id": principal.user_id, "items": deleted})
    return {"deleted_items": deleted, "pseudonymised_audit_events": pseudonymised}
