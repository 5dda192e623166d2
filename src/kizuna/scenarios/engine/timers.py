"""Time-based triggers: dates that come round (birthdays, order anniversaries, expected re-orders) and
schedules.

A date trigger is scanned when the hour has turned since its last scan (cursor ``date:<scenario id>``, holding
the last scan time): customers whose moment — their date plus ``offset_days``, at ``at`` in their timezone —
fell since then enter, with the date as the occurrence, so a scan repeated after a crash enters nobody twice.
A schedule fires once per tick (cursor ``schedule:<scenario id>``, holding the last tick), never for ticks
before the scenario was created; the occurrence is the tick's time.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kizuna.scenarios.definition import DateSpec, DateTrigger, ScheduleSpec, ScheduleTrigger
from kizuna.scenarios.engine.claims import move_cursor, take_cursor
from kizuna.scenarios.engine.entering import enter
from kizuna.scenarios.engine.localtime import local_moment, timezones, zone
from kizuna.scenarios.engine.state import LoadedScenario, RunReport
from kizuna.store.automation import Segment, SegmentMember
from kizuna.store.bulk import chunked
from kizuna.store.orders import is_purchase
from kizuna.store.tables import Customer, Order

#: How far back a date scan looks after a long stop (moments older than this are not caught up).
CATCH_UP = timedelta(days=7)
#: Schedules are counted from this moment (a Monday), at their ``at`` time in the default timezone.
_ANCHOR = date(2024, 1, 1)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def scan_dates(session: Session, scenario: LoadedScenario, *, now: datetime, report: RunReport) -> None:
    """Enter the customers whose date came round since the last scan (at most once per hour tick)."""
    trigger = scenario.definition.trigger
    assert isinstance(trigger, DateTrigger)
    name = f"date:{scenario.id}"
    position = take_cursor(session, name, now)
    if position is None:
        return
    last = datetime.fromtimestamp(position, UTC) if position else None
    if last is not None and _hour(last) >= _hour(now):
        return
    start = max(last or _hour(now) - timedelta(hours=1), now - CATCH_UP)
    due: list[tuple[int, str]] = []
    dates = list(customer_dates(session, trigger.date, now))
    zones = timezones(session, {cid for cid, _ in dates})
    for cid, day in dates:
        target = day + timedelta(days=trigger.date.offset_days)
        moment = local_moment(target, trigger.date.at, zones.get(cid) or zone(None))
        if start < moment <= now:
            due.append((cid, target.isoformat()))
    for chunk in chunked(due, 5_000):
        enter(
            session,
            scenario,
            [c for c, _ in chunk],
            now=now,
            occurrences=[d for _, d in chunk],
            report=report,
        )
    move_cursor(session, name, int(now.timestamp()), now)


def customer_dates(
    session: Session, spec: DateSpec, now: datetime, customer_ids: Collection[int] | None = None
) -> Iterator[tuple[int, date]]:
    """Each customer's date for ``spec.source`` (local dates; birthdays in last, this and next year), of
    every customer or of ``customer_ids`` only. The preview reads the same dates (``scenarios.entrants``)."""

    def purchases(*columns: Any) -> Select[Any]:  # first and last orders and re-order cycles: purchases
        return select(*columns).where(is_purchase(Order.status))

    def only(query: Select[Any], column: Any) -> Select[Any]:
        return query if customer_ids is None else query.where(column.in_(list(customer_ids)))

    if spec.source == "birthday":
        born_on = select(Customer.id, Customer.birth_date).where(Customer.birth_date.is_not(None))
        for cid, born in session.execute(only(born_on, Customer.id)):
            for year in (now.year - 1, now.year, now.year + 1):
                try:
                    yield cid, born.replace(year=year)
                except ValueError:  # 29 February in a common year
                    yield cid, date(year, 3, 1)
        return
    moments: list[tuple[int, datetime]] = []
    if spec.source in ("first_order", "last_order"):
        pick = func.min if spec.source == "first_order" else func.max
        moments = list(
            session.execute(
                only(purchases(Order.customer_id, pick(Order.ordered_at)), Order.customer_id).group_by(
                    Order.customer_id
                )
            ).tuples()
        )
    else:
        per_customer: dict[int, list[datetime]] = defaultdict(list)
        for cid, at in session.execute(
            only(purchases(Order.customer_id, Order.ordered_at), Order.customer_id).order_by(
                Order.customer_id, Order.ordered_at
            )
        ):
            per_customer[cid].append(at)
        for cid, times in per_customer.items():
            if len(times) >= 2:  # no cycle without two orders
                gap = statistics.median((b - a).total_seconds() for a, b in itertools.pairwise(times))
                moments.append((cid, times[-1] + timedelta(seconds=gap)))
    zones = timezones(session, {cid for cid, _ in moments})
    for cid, at in moments:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        yield cid, at.astimezone(zones.get(cid) or zone(None)).date()


def current_tick(spec: ScheduleSpec, now: datetime) -> datetime:
    """The latest tick of the schedule at or before ``now``."""
    tz = zone(None)
    anchor = datetime.combine(_ANCHOR, spec.at or datetime.min.time(), tzinfo=tz)
    steps = (now - anchor) // spec.every
    return (anchor + steps * spec.every).astimezone(UTC)


def fire_schedule(session: Session, scenario: LoadedScenario, *, now: datetime, report: RunReport) -> None:
    """Enter the schedule's audience once for the current tick, if it has not fired for it yet."""
    trigger = scenario.definition.trigger
    assert isinstance(trigger, ScheduleTrigger)
    name = f"schedule:{scenario.id}"
    position = take_cursor(session, name, now)
    if position is None:
        return
    tick = current_tick(trigger.schedule, now)
    if int(tick.timestamp()) <= position or tick < scenario.created_at:
        return
    segment = trigger.schedule.segment
    if segment is None:
        query = select(Customer.id).order_by(Customer.id)
    else:
        query = (
            select(SegmentMember.customer_id)
            .join(Segment, Segment.id == SegmentMember.segment_id)
            .where(Segment.name == segment, SegmentMember.left_at.is_(None))
            .order_by(SegmentMember.customer_id)
            .distinct()
        )
    audience = list(session.scalars(query))
    for chunk in chunked(audience, 5_000):
        enter(session, scenario, chunk, now=now, occurrence=tick.isoformat(), report=report)
    move_cursor(session, name, int(tick.timestamp()), now)
