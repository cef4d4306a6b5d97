"""Reading the audit trail: by entity, by actor, or everything in a period, newest first."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from chalicelib.audit import data
from chalicelib.audit.data import AuditEvent
from chalicelib.core import clock
from chalicelib.core.pagination import Page, PageQuery, decode_cursor, encode_cursor

MAX_PERIOD_DAYS = 366


class AuditQuery(PageQuery):
    model_config = ConfigDict(populate_by_name=True)

    entity: (
        Annotated[str, Field(pattern=r"^[a-z_]+:[^\s]{1,200}$", description="type:id, e.g. question:01ab...")] | None
    ) = None
    actor: Annotated[str, Field(max_length=64)] | None = None
    from_: AwareDatetime | None = Field(None, alias="from", description="ISO 8601 with offset; default 30 days ago")
    to: AwareDatetime | None = Field(None, description="ISO 8601 with offset; default now")

    # the period as the client gave it (None: a default): what a cursor must match
    _given: tuple[str | None, str | None] = PrivateAttr(default=(None, None))

    @model_validator(mode="after")
    def _period(self) -> AuditQuery:
        if self.entity and self.actor:
            raise ValueError("filter by entity or by actor, not both")
        self._given = (
            clock.iso(self.from_) if self.from_ else None,
            clock.iso(self.to) if self.to else None,
        )
        end = self.to or clock.now()
        start = self.from_ or end - timedelta(days=30)
        if start > end:
            raise ValueError("'from' must be before 'to'")
        if not (self.entity or self.actor) and end - start > timedelta(days=MAX_PERIOD_DAYS):
            raise ValueError(f"without a filter the period may span at most {MAX_PERIOD_DAYS} days")
        self.from_, self.to = start, end
        return self


class AuditEventOut(BaseModel):
    id: str
    at: str
    actor_id: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any


def to_out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        id=event.event_id,
        at=event.at,
        actor_id=event.actor_id,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        before=json.loads(event.before) if event.before else None,
        after=json.loads(event.after) if event.after else None,
    )


def _bounds(query: AuditQuery) -> tuple[str, str]:
    start, end = query.from_ or clock.now(), query.to or clock.now()  # filled in by the query's validator
    return clock.iso(start), clock.iso(end) + "~"  # '~' sorts after every '#<id>' suffix


def list_events(query: AuditQuery) -> Page[AuditEventOut]:
    """A page of events. The cursor carries the period the first page resolved (a default "now"
    moves between requests: the next page must keep the first one's window)."""
    scope = f"audit:list:{query.entity}:{query.actor}:{query._given[0]}:{query._given[1]}"
    resumed = decode_cursor(query.cursor, scope)
    low, high = (str(resumed["low"]), str(resumed["high"])) if resumed else _bounds(query)
    inner = resumed.get("inner") if resumed else None
    paged = query.model_copy(update={"cursor": inner})
    if query.entity:
        entity_type, _, entity_id = query.entity.partition(":")
        items, cursor = data.page_by_entity(entity_type, entity_id, low, high, query.limit, inner)
    elif query.actor:
        items, cursor = data.page_by_actor(query.actor, low, high, query.limit, inner)
    else:
        items, cursor = _period_page(low, high, paged)
    following = encode_cursor({"low": low, "high": high, "inner": cursor}, scope) if cursor else None
    return Page[AuditEventOut](items=[to_out(e) for e in items], next_cursor=following)


def _months_newest_first(low: str, high: str) -> list[str]:
    months, cursor = [], datetime.fromisoformat(high[:7] + "-01")
    first = low[:7]
    while cursor.strftime("%Y-%m") >= first:
        months.append(cursor.strftime("%Y-%m"))
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    return months


def _period_page(low: str, high: str, query: AuditQuery) -> tuple[list[AuditEvent], str | None]:
    """One month partition after another, newest first; the cursor remembers month and position."""
    scope = f"audit:period:{low}:{high}"
    state = decode_cursor(query.cursor, scope) or {}
    months = _months_newest_first(low, high)
    if state.get("month") in months:
        months = months[months.index(state["month"]) :]
    start_key = state.get("key")
    found: list[AuditEvent] = []
    for month in months:
        results = data.month_page(month, low, high, query.limit - len(found), start_key)
        found += list(results)
        start_key = None
        if len(found) >= query.limit:
            key = results.last_evaluated_key
            return found, encode_cursor({"month": month, "key": key} if key else _next_month(months, month), scope)
    return found, None


def _next_month(months: list[str], month: str) -> dict[str, Any] | None:
    index = months.index(month)
    return {"month": months[index + 1], "key": None} if index + 1 < len(months) else None
