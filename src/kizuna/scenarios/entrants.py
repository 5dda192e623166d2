"""Who would enter a scenario now, for its preview: read-only queries per kind of trigger.

- a segment trigger: the segment's matching customers now (its condition, compiled);
- an event trigger: customers with such an event in the lookback window and, for ``unless``, no following
  event of that name within ``within`` of it;
- a date trigger: customers whose date (with its offset, at its time in their timezone) falls in the next
  7 days;
- a schedule: its audience (the segment's matching customers, or every customer).
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, func, select

from kizuna.config import get_settings
from kizuna.scenarios.definition import (
    DateSpec,
    DateTrigger,
    EventTrigger,
    ScenarioDefinition,
    ScheduleTrigger,
    SegmentTrigger,
)
from kizuna.segments.compiler import Resolver, matching_ids
from kizuna.segments.conditions import SegmentCondition
from kizuna.segments.registry import resolver
from kizuna.store.tables import Customer, Event, Order

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
            (at, props) for name, at, props in events if name == trigger.event and _has(props, trigger.where)
        ]
        unless = trigger.unless
        for at, props in reversed(triggers):  # the latest trigger that still counts
            if unless is not None and any(
                name == unless.event and at < later <= at + unless.within and _has(p, unless.where)
                for name, later, p in events
            ):
                continue
            reason = f"{trigger.event} at {at:%Y-%m-%d %H:%M}"
            if unless is not None:
                reason += f", no {unless.event} after it"
            found[cid] = Entry(reason, props)
            break
    return dict(sorted(found.items()))


def _has(properties: dict[str, Any], where: dict[str, Any]) -> bool:
    return all(properties.get(key) == value for key, value in where.items())


def _date_entrants(
    conn: Connection, spec: DateSpec, *, now: datetime, wanted: list[int] | None
) -> dict[int, Entry]:
    default_zone = get_settings().default_timezone
    zones = _zones(conn, wanted)
    found: dict[int, Entry] = {}
    for cid, when in _dates(conn, spec, now=now, wanted=wanted):
        zone = _zone(zones.get(cid) or default_zone)
        day = when.astimezone(zone).date() if isinstance(when, datetime) else when
        moment = datetime.combine(day + timedelta(days=spec.offset_days), spec.at, zone)
        if now <= moment < now + DATE_HORIZON:
            found[cid] = Entry(f"{spec.source} {day.isoformat()}, enters {moment:%Y-%m-%d %H:%M %Z}", {})
    return dict(sorted(found.items()))


def _dates(
    conn: Connection, spec: DateSpec, *, now: datetime, wanted: list[int] | None
) -> Iterable[tuple[int, date | datetime]]:
    """Each customer's date for the trigger's source: birthdays in last, this and next year (days), order
    times (moments, made days in the customer's timezone by the caller)."""
    if spec.source == "birthday":
        query = select(Customer.id, Customer.birth_date).where(Customer.birth_date.is_not(None))
        if wanted is not None:
            query = query.where(Customer.id.in_(wanted))
        for cid, born in conn.execute(query):
            for year in (now.year - 1, now.year, now.year + 1):
                yield cid, _anniversary(born, year)
        return
    if spec.source in ("first_order", "last_order"):
        pick = func.min if spec.source == "first_order" else func.max
        grouped = select(Order.customer_id, pick(Order.ordered_at)).group_by(Order.customer_id)
        if wanted is not None:
            grouped = grouped.where(Order.customer_id.in_(wanted))
        for cid, at in conn.execute(grouped):
            yield cid, at
        return
    orders = select(Order.customer_id, Order.ordered_at).order_by(Order.customer_id, Order.ordered_at)
    if wanted is not None:
        orders = orders.where(Order.customer_id.in_(wanted))
    per_customer: dict[int, list[datetime]] = defaultdict(list)
    for cid, at in conn.execute(orders):
        per_customer[cid].append(at)
    for cid, times in per_customer.items():
        if len(times) < 2:
            continue  # no cycle without two orders
        gap = statistics.median((b - a).total_seconds() for a, b in itertools.pairwise(times))
        yield cid, times[-1] + timedelta(seconds=gap)


def _anniversary(born: date, year: int) -> date:
    try:
        return born.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 3, 1)


def _zones(conn: Connection, wanted: list[int] | None) -> dict[int, str]:
    query = select(Customer.id, Customer.timezone).where(Customer.timezone.is_not(None))
    if wanted is not None:
        query = query.where(Customer.id.in_(wanted))
    return {cid: tz for cid, tz in conn.execute(query)}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(get_settings().default_timezone)
