"""Audit events and their keys. See docs/data-model.md, patterns AU1-AU4."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import UnicodeAttribute

from chalicelib.core import clock
from chalicelib.core.db import TableItem


class AuditEvent(TableItem, discriminator="AuditEvent"):
    event_id = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    action = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    at = UnicodeAttribute()
    before = UnicodeAttribute(null=True)  # JSON
    after = UnicodeAttribute(null=True)  # JSON


def new_event(
    *, actor_id: str, action: str, entity_type: str, entity_id: str, before: Any = None, after: Any = None
) -> AuditEvent:
    at = clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")  # ms: a stable order
    event_id = clock.new_id()
    sort_key = f"{at}#{event_id}"
    return AuditEvent(
        PK=f"AUDIT#{at[:7]}",  # one partition per month keeps "newest first" a single Query
        SK=sort_key,
        GSI1PK=f"AUDIT#ENTITY#{entity_type}#{entity_id}",
        GSI1SK=sort_key,
        GSI2PK=f"AUDIT#ACTOR#{actor_id}",
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
        AuditEvent.gsi1.query(f"AUDIT#ENTITY#{entity_type}#{entity_id}", scan_index_forward=False)  # type: ignore[arg-type]
    )
