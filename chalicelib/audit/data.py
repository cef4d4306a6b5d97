"""Audit events and their keys. See docs/data-model.md, patterns AU1-AU4."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core import clock
from chalicelib.core.db import TableItem, cancelled_positions, is_condition_failure, transaction
from chalicelib.core.pagination import collect, decode_cursor
from chalicelib.core.timeutil import iso_ms


class AuditEvent(TableItem, discriminator="AuditEvent"):
    event_id = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    action = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    at = UnicodeAttribute()
    before = UnicodeAttribute(null=True)  # JSON
    after = UnicodeAttribute(null=True)  # JSON


def month_pk(month: str) -> str:
    return f"AUDIT#{month}"


def entity_pk(entity_type: str, entity_id: str) -> str:
    return f"AUDIT#ENTITY#{entity_type}#{entity_id}"


def actor_pk(actor_id: str) -> str:
    return f"AUDIT#ACTOR#{actor_id}"


def new_event(
    *, actor_id: str, action: str, entity_type: str, entity_id: str, before: Any = None, after: Any = None
) -> AuditEvent:
    at = iso_ms(clock.now())  # ms: a stable order
    event_id = clock.new_id()
    sort_key = f"{at}#{event_id}"
    return AuditEvent(
        PK=month_pk(at[:7]),  # one partition per month keeps "newest first" a single Query
        SK=sort_key,
        GSI1PK=entity_pk(entity_type, entity_id),
        GSI1SK=sort_key,
        GSI2PK=actor_pk(actor_id),
        GSI2SK=sort_key,
        event_id=event_id,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        at=at,
        before=None if before is None else json.dumps(before, default=str, sort_keys=True),
        after=None if after is None else json.dumps(after, default=str, sort_keys=True),
    )


def events_for_entity(entity_type: str, entity_id: str) -> list[AuditEvent]:
    return list(
        AuditEvent.gsi1.query(entity_pk(entity_type, entity_id), scan_index_forward=False)  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Change:
    """What a staff action did, as the audit trail records it."""

    actor_id: str
    action: str
    entity_type: str
    entity_id: str
    before: Any = None
    after: Any = None


@contextmanager
def audited_transaction(
    change: Change,
    *,
    refusals: Mapping[int, Exception] | None = None,
    otherwise: Exception | None = None,
) -> Iterator[TransactWrite]:
    """A transaction whose writes land together with their audit event, or not at all.

    The caller adds its writes to the yielded transaction; the event is added last, so positions
    in `refusals` are those of the caller's writes. A write refused by its condition raises the
    exception mapped to its position, else `otherwise`; any other failure propagates."""
    try:
        with transaction() as tx:
            yield tx
            tx.save(event_for(change))
    except TransactWriteError as exc:
        failed = cancelled_positions(exc) if is_condition_failure(exc) else []
        for position in failed:
            if refusals and position in refusals:
                raise refusals[position] from exc
        if failed and otherwise is not None:
            raise otherwise from exc
        raise


def events_by_actor(actor_id: str) -> list[AuditEvent]:
    return list(AuditEvent.gsi2.query(actor_pk(actor_id)))  # type: ignore[arg-type]


def pseudonymise_actor(event: AuditEvent, pseudonym: str) -> None:
    """Keep a staff event but no longer say who did it (erasure of the actor's account)."""
    event.update(actions=[AuditEvent.actor_id.set(pseudonym), AuditEvent.GSI2PK.set(actor_pk(pseudonym))])


def pseudonymise_subject(event: AuditEvent, pseudonym: str) -> None:
    """Keep an event about an erased account without naming it."""
    event.update(
        actions=[AuditEvent.entity_id.set(pseudonym), AuditEvent.GSI1PK.set(entity_pk(event.entity_type, pseudonym))]
    )


def record(change: Change) -> None:
    """An event that stands alone (a failed login, an export): one PutItem."""
    event_for(change).save()


def event_for(change: Change) -> AuditEvent:
    """The event of a change, for a caller that writes it inside its own transaction."""
    return new_event(
        actor_id=change.actor_id,
        action=change.action,
        entity_type=change.entity_type,
        entity_id=change.entity_id,
        before=change.before,
        after=change.after,
    )


def page_by_entity(
    entity_type: str, entity_id: str, low: str, high: str, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    """An entity's events between two times, newest first: one Query on GSI1."""
    return _index_page(AuditEvent.gsi1, AuditEvent.GSI1SK, entity_pk(entity_type, entity_id), low, high, limit, cursor)


def page_by_actor(
    actor_id: str, low: str, high: str, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    """An actor's events between two times, newest first: one Query on GSI2."""
    return _index_page(AuditEvent.gsi2, AuditEvent.GSI2SK, actor_pk(actor_id), low, high, limit, cursor)


def _index_page(
    index: Any, sort_key: Any, partition: str, low: str, high: str, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    scope = f"audit:{partition}:{low}:{high}"
    results = index.query(
        partition,
        sort_key.between(low, high),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    )
    return collect(results, scope)


def month_page(month: str, low: str, high: str, limit: int, start_key: dict[str, Any] | None) -> Any:
    """One month partition's events between two times, newest first: the Query's result iterator
    (the caller continues into the previous month when this one runs out)."""
    return AuditEvent.query(
        month_pk(month),
        AuditEvent.SK.between(low, high),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=start_key,
    )
