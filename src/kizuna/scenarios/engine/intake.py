"""Intake: reading what happened since the last pass and acting on it.

Events are read after the cursor ``events`` in id order: event triggers enter customers (occurrence = the
event id), ``unless`` events cancel entries still in their window, goal events end runs, and awaited events
wake runs that wait for them. New rows of ``segment_members`` after the cursor ``segment_entries`` enter
customers into segment-triggered scenarios (occurrence = the row id). Each read happens in one transaction
holding the cursor's lock, so one worker at a time reads each log and the cursor moves only if the actions
it caused are committed with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.scenarios.definition import EventTrigger, SegmentTrigger, WaitStep
from kizuna.scenarios.engine.claims import move_cursor, safe_position, take_cursor
from kizuna.scenarios.engine.entering import enter
from kizuna.scenarios.engine.policies import matches
from kizuna.scenarios.engine.state import (
    EXITED,
    WAITING,
    LoadedScenario,
    RunReport,
    RunState,
    load_runs,
    save_runs,
)
from kizuna.scenarios.engine.stepping import route_after_event
from kizuna.scenarios.triggers import trigger_product_key
from kizuna.store.automation import ScenarioRun, Segment, SegmentMember
from kizuna.store.bulk import among
from kizuna.store.tables import Event

EVENTS = "events"
SEGMENT_ENTRIES = "segment_entries"


@dataclass(frozen=True)
class _Event:
    id: int
    name: str
    customer_id: int
    occurred_at: datetime
    received_at: datetime
    properties: dict[str, Any]


@dataclass
class IntakeResult:
    """How many log rows a read took in, whether more may be waiting, and whose events they were."""

    read: int
    more: bool
    customer_ids: set[int]


def _names(scenarios: dict[int, LoadedScenario]) -> set[str]:
    names: set[str] = set()
    for s in scenarios.values():
        d = s.definition
        if isinstance(d.trigger, EventTrigger):
            names.add(d.trigger.event)
            if d.trigger.unless is not None:
                names.add(d.trigger.unless.event)
        if d.goal is not None:
            names.add(d.goal.event)
        names.update(
            st.wait.until_event for st in d.steps if isinstance(st, WaitStep) and st.wait.until_event
        )
    return names


def read_events(
    session: Session,
    scenarios: dict[int, LoadedScenario],
    *,
    now: datetime,
    batch: int,
    lag: timedelta,
    report: RunReport,
) -> IntakeResult:
    """Read one batch of events after the cursor and act on it (in the caller's transaction)."""
    position = take_cursor(session, EVENTS, now)
    if position is None:
        return IntakeResult(0, False, set())
    rows = session.execute(
        select(Event.id, Event.received_at, Event.customer_id)
        .where(Event.id > position)
        .order_by(Event.id)
        .limit(batch)
    ).all()
    if not rows:
        return IntakeResult(0, False, set())
    names = _names(scenarios)
    events: list[_Event] = []
    if names:
        found = session.execute(
            select(
                Event.id,
                Event.name,
                Event.customer_id,
                Event.occurred_at,
                Event.received_at,
                Event.properties,
            )
            .where(
                Event.id > position,
                Event.id <= rows[-1][0],
                Event.customer_id.is_not(None),
                Event.name.in_(sorted(names)),
            )
            .order_by(Event.id)
        )
        events = [_Event(i, n, c, t, r, p or {}) for i, n, c, t, r, p in found]
    for scenario in scenarios.values():
        _enter_on_events(session, scenario, events, now, report)
    _wake_or_cancel(session, scenarios, events, now, report)
    _goals(session, scenarios, events, now, report)
    moved = safe_position(position, [(i, t) for i, t, _ in rows], now, lag)
    move_cursor(session, EVENTS, moved, now)
    report.events_read += len(rows)
    customers = {c for _, _, c in rows if c is not None}
    return IntakeResult(len(rows), moved > position and len(rows) == batch, customers)


def _enter_on_events(
    session: Session, scenario: LoadedScenario, events: list[_Event], now: datetime, report: RunReport
) -> None:
    trigger = scenario.definition.trigger
    if not isinstance(trigger, EventTrigger):
        return
    chosen = [
        e
        for e in events
        if e.name == trigger.event
        and matches(e.properties, trigger.where)
        and e.received_at >= scenario.created_at  # history before the scenario existed does not trigger it
    ]
    if not chosen:
        return
    contexts = []
    for e in chosen:
        ctx: dict[str, Any] = {"since": e.occurred_at.isoformat(), "event": e.id}
        product = trigger_product_key(e.properties)
        if product is not None:
            ctx["product"] = product
        contexts.append(ctx)
    enter(
        session,
        scenario,
        [e.customer_id for e in chosen],
        now=now,
        occurrences=[str(e.id) for e in chosen],
        contexts=contexts,
        report=report,
    )


def _waiting_runs(
    session: Session, scenario_ids: Sequence[int], customer_ids: set[int], waiting_for: set[str] | None
) -> list[RunState]:
    ids: list[int] = []
    for these in among(session, ScenarioRun.customer_id, customer_ids):
        query = select(ScenarioRun.id).where(
            ScenarioRun.status == WAITING,
            ScenarioRun.scenario_id.in_(scenario_ids),
            these,
        )
        if waiting_for is not None:
            query = query.where(ScenarioRun.waiting_for.in_(sorted(waiting_for)))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        ids.extend(session.scalars(query))
    return load_runs(session, ids)


def _wake_or_cancel(
    session: Session,
    scenarios: dict[int, LoadedScenario],
    events: list[_Event],
    now: datetime,
    report: RunReport,
) -> None:
    """Runs waiting for one of these events: ``unless`` cancels the entry, ``until_event`` wakes the run."""
    if not events:
        return
    by_customer: dict[int, list[_Event]] = defaultdict(list)
    for e in events:
        by_customer[e.customer_id].append(e)
    runs = _waiting_runs(session, list(scenarios), set(by_customer), {e.name for e in events})
    changed = []
    for run in runs:
        definition = scenarios[run.scenario_id].definition
        mine = [e for e in by_customer[run.customer_id] if e.name == run.waiting_for]
        if run.context.get("phase") == "unless":
            trigger = definition.trigger
            assert isinstance(trigger, EventTrigger) and trigger.unless is not None
            since = datetime.fromisoformat(run.since())
            end = since + trigger.unless.within
            if any(
                since <= e.occurred_at <= end
                and str(e.id) != run.trigger_event()  # the trigger is not its own "unless"
                and matches(e.properties, trigger.unless.where)
                for e in mine
            ):
                run.finish(EXITED, now, "unless")
                report.exited += 1
                changed.append(run)
            continue
        if run.step is None:
            continue
        step = definition.step(run.step)
        if not isinstance(step, WaitStep):
            continue
        started = datetime.fromisoformat(run.context.get("waiting_since", run.since()))
        if any(e.occurred_at >= started and matches(e.properties, step.wait.where) for e in mine):
            run.context.pop("waiting_since", None)
            run.step = route_after_event(definition.following(run.step), step, came=True)
            run.waiting_for = None
            run.wake_at = now
            changed.append(run)
    save_runs(session, changed, now)


def _goals(
    session: Session,
    scenarios: dict[int, LoadedScenario],
    events: list[_Event],
    now: datetime,
    report: RunReport,
) -> None:
    """End (reason ``goal``) the runs in progress whose customer reached the scenario's goal."""
    reached: dict[int, dict[int, list[tuple[datetime, int]]]] = {}
    for s in scenarios.values():
        goal = s.definition.goal
        if goal is None:
            continue
        for e in events:
            if e.name == goal.event and matches(e.properties, goal.where):
                reached.setdefault(s.id, {}).setdefault(e.customer_id, []).append((e.occurred_at, e.id))
    if not reached:
        return
    customers = {c for per in reached.values() for c in per}
    changed = []
    for run in _waiting_runs(session, sorted(reached), customers, None):
        times = reached[run.scenario_id].get(run.customer_id, [])
        since = datetime.fromisoformat(run.since())
        # The event that started the run is not its goal, even when goal and trigger share a name (every
        # order → a flyer, goal: the next order).
        if any(t > since or (t == since and str(event_id) != run.trigger_event()) for t, event_id in times):
            run.finish(EXITED, now, "goal")
            report.exited += 1
            changed.append(run)
    save_runs(session, changed, now)


def read_segment_entries(
    session: Session,
    scenarios: dict[int, LoadedScenario],
    *,
    now: datetime,
    batch: int,
    lag: timedelta,
    report: RunReport,
) -> IntakeResult:
    """Read one batch of new segment stays after the cursor; enter segment-triggered scenarios."""
    position = take_cursor(session, SEGMENT_ENTRIES, now)
    if position is None:
        return IntakeResult(0, False, set())
    rows = session.execute(
        select(
            SegmentMember.id, SegmentMember.segment_id, SegmentMember.customer_id, SegmentMember.entered_at
        )
        .where(SegmentMember.id > position)
        .order_by(SegmentMember.id)
        .limit(batch)
    ).all()
    if not rows:
        return IntakeResult(0, False, set())
    wanted: dict[str, list[LoadedScenario]] = defaultdict(list)
    for s in scenarios.values():
        if isinstance(s.definition.trigger, SegmentTrigger):
            wanted[s.definition.trigger.segment].append(s)
    if wanted:
        ids = dict(
            session.execute(select(Segment.id, Segment.name).where(Segment.name.in_(sorted(wanted))))
            .tuples()
            .all()
        )
        per_segment: dict[int, list[tuple[int, int, datetime]]] = defaultdict(list)
        for row_id, segment_id, cid, entered_at in rows:
            if segment_id in ids:
                per_segment[segment_id].append((row_id, cid, entered_at))
        for segment_id, stays in per_segment.items():
            for scenario in wanted[ids[segment_id]]:
                new = [s for s in stays if s[2] >= scenario.created_at]  # entries since it exists
                enter(
                    session,
                    scenario,
                    [cid for _, cid, _ in new],
                    now=now,
                    occurrences=[str(row_id) for row_id, _, _ in new],
                    contexts=[{"since": at.isoformat()} for _, _, at in new],
                    report=report,
                )
    moved = safe_position(position, [(i, at) for i, _, _, at in rows], now, lag)
    move_cursor(session, SEGMENT_ENTRIES, moved, now)
    report.segment_entries_read += len(rows)
    return IntakeResult(len(rows), moved > position and len(rows) == batch, set())
