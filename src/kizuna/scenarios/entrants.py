"""Who would enter a scenario now, for its preview: read-only queries per kind of trigger.

- a segment trigger: the segment's matching customers now (its condition, compiled);
- an event trigger: customers with such an event in the lookback window and, for ``unless``, no following
  event of that name within ``within`` of it;
- a date trigger: customers whose date (with its offset, at its time in their timezone) falls in the next
  7 days;
- a schedule: its audience (the segment's matching customers, or every customer).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from kizuna.scenarios.definition import (
    DateSpec,
    DateTrigger,
    EventTrigger,
    ScenarioDefinition,
    ScheduleTrigger,
    SegmentTrigger,
)
from kizuna.scenarios.engine.localtime import local_moment, timezones, zone
from kizuna.scenarios.engine.policies import matches
from kizuna.scenarios.engine.timers import customer_dates
from kizuna.segments.compiler import Resolver, matching_ids
from kizuna.segments.conditions import SegmentCondition
from kizuna.segments.registry import resolver
from kizuna.store.tables import Customer, Event

#: How far ahead a date trigger is looked at.
DATE_HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class Entry:
    """Why a customer would enter: a few words, and the trigger event's properties (for
    ``similar_to_trigger``)."""

    reason: str
    properties: dict[str, Any]


def segment_resolver(conn: Connection) -> Resolver:
    """The stored segments' conditions by name, for the compiler (unknown names raise KeyError)."""
    return resolver(conn)


def _in_segment(
    conn: Connection, name: str, *, now: datetime, resolve: Resolver, wanted: list[int] | None
) -> list[int]:
    found = matching_ids(conn, SegmentCondition(segment=name), now=now, resolve=resolve, customer_ids=wanted)
    return sorted(found)


def entrants(
    conn: Connection,
    definition: ScenarioDefinition,
    *,
    now: datetime,
    lookback: timedelta,
    customer_ids: Iterable[int] | None = None,
) -> dict[int, Entry]:
    """Each customer who would enter the scenario at ``now``, with why (``customer_ids`` narrows them)."""
    wanted = None if customer_ids is None else list(customer_ids)
    trigger = definition.trigger
    resolve = segment_resolver(conn)
    if isinstance(trigger, SegmentTrigger):
        ids = _in_segment(conn, trigger.segment, now=now, resolve=resolve, wanted=wanted)
        return {cid: Entry(f"in segment {trigger.segment}", {}) for cid in ids}
    if isinstance(trigger, ScheduleTrigger):
        segment = trigger.schedule.segment
        if segment is None:
            query = select(Customer.id).order_by(Customer.id)
            if wanted is not None:
                query = query.where(Customer.id.in_(wanted))
            return {cid: Entry("every customer", {}) for cid in conn.execute(query).scalars()}
        ids = _in_segment(conn, segment, now=now, resolve=resolve, wanted=wanted)
        return {cid: Entry(f"in segment {segment}", {}) for cid in ids}
    if isinstance(trigger, EventTrigger):
        return _event_entrants(conn, trigger, now=now, lookback=lookback, wanted=wanted)
    assert isinstance(trigger, DateTrigger)
    return _date_entrants(conn, trigger.date, now=now, wanted=wanted)


def _event_entrants(
    conn: Connection, trigger: EventTrigger, *, now: datetime, lookback: timedelta, wanted: list[int] | None
) -> dict[int, Entry]:
    names = [trigger.event] + ([trigger.unless.event] if trigger.unless else [])
    query = (
        select(Event.customer_id, Event.name, Event.occurred_at, Event.properties)
        .where(
            Event.name.in_(names),
            Event.customer_id.is_not(None),
            Event.occurred_at > now - lookback,
            Event.occurred_at <= now,
        )
        .order_by(Event.customer_id, Event.occurred_at, Event.id)
    )
    if wanted is not None:
        query = query.where(Event.customer_id.in_(wanted))
    per_customer: dict[int, list[tuple[str, datetime, dict[str, Any]]]] = defaultdict(list)
    for cid, name, at, properties in conn.execute(query):
        per_customer[cid].append((name, at, properties or {}))
    found: dict[int, Entry] = {}
    for cid, events in per_customer.items():
        triggers = [
            (at, props)
            for name, at, props in events
            if name == trigger.event and matches(props, trigger.where)
        ]
        unless = trigger.unless
        for at, props in reversed(triggers):  # the latest trigger that still counts
            if unless is not None and any(
                name == unless.event and at < later <= at + unless.within and matches(p, unless.where)
                for name, later, p in events
            ):
                continue
            reason = f"{trigger.event} at {at:%Y-%m-%d %H:%M}"
            if unless is not None:
                reason += f", no {unless.event} after it"
            found[cid] = Entry(reason, props)
            break
    return dict(sorted(found.items()))


def _date_entrants(
    conn: Connection, spec: DateSpec, *, now: datetime, wanted: list[int] | None
) -> dict[int, Entry]:
    """Customers whose moment (their date plus the offset, at ``at`` in their timezone) falls in the next
    :data:`DATE_HORIZON`: the engine's own dates and local times (``scenarios.engine.timers``)."""
    with Session(bind=conn) as session:
        dates = list(customer_dates(session, spec, now, customer_ids=wanted))
        zones = timezones(session, {cid for cid, _ in dates})
    found: dict[int, Entry] = {}
    for cid, day in dates:
        tz = zones.get(cid) or zone(None)
        moment = local_moment(day + timedelta(days=spec.offset_days), spec.at, tz)
        if now <= moment < now + DATE_HORIZON:
            local = moment.astimezone(tz)
            found[cid] = Entry(f"{spec.source} {day.isoformat()}, enters {local:%Y-%m-%d %H:%M %Z}", {})
    return dict(sorted(found.items()))
