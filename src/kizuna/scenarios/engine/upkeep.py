"""Upkeep the worker does besides intake and timers: starting segment-triggered scenarios with the customers
already in their segment, and rebuilding the segments scenarios depend on so that time alone (a customer
becoming lapsed, a subscription running out) moves people in and out of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kizuna.scenarios.definition import BranchStep, ScenarioDefinition, ScheduleTrigger, SegmentTrigger
from kizuna.scenarios.engine.entering import enter
from kizuna.scenarios.engine.state import LoadedScenario, RunReport
from kizuna.segments.conditions import segment_references
from kizuna.segments.membership import rebuild
from kizuna.store.automation import EngineCursor, Segment, SegmentMember
from kizuna.store.engine import Store
from kizuna.store.tables import table_of


def backfill_marker(scenario_id: int) -> str:
    """The cursor row that records a scenario has taken in its segment's existing members."""
    return f"existing:{scenario_id}"


def takes_existing(scenario: LoadedScenario) -> bool:
    """Whether the scenario starts with the customers already in its trigger segment."""
    trigger = scenario.definition.trigger
    return isinstance(trigger, SegmentTrigger) and trigger.existing


def enter_existing(session: Session, scenario: LoadedScenario, *, now: datetime, report: RunReport) -> bool:
    """Once per scenario: enter the customers whose stay in its trigger segment began before it existed.

    Later stays arrive through intake. The marker row is written in the same transaction, so the work is
    done once even with several workers (the second waits on the first's marker, then finds it). Entering
    uses the stay's id as occurrence, as intake does, so a stay seen by both enters once. Returns whether
    this call did the work.
    """
    trigger = scenario.definition.trigger
    if not isinstance(trigger, SegmentTrigger) or not trigger.existing:
        return False
    if not _claim_marker(session, backfill_marker(scenario.id), now):
        return False
    stays = session.execute(
        select(SegmentMember.id, SegmentMember.customer_id, SegmentMember.entered_at)
        .join(Segment, Segment.id == SegmentMember.segment_id)
        .where(
            Segment.name == trigger.segment,
            SegmentMember.left_at.is_(None),
            SegmentMember.entered_at < scenario.created_at,
        )
        .order_by(SegmentMember.id)
    ).all()
    if stays:
        enter(
            session,
            scenario,
            [cid for _, cid, _ in stays],
            now=now,
            occurrences=[str(row_id) for row_id, _, _ in stays],
            contexts=[{"since": at.isoformat()} for _, _, at in stays],
            report=report,
        )
    return True


def _claim_marker(session: Session, name: str, now: datetime) -> bool:
    """Insert the marker row; whether this transaction inserted it (False: it was there already)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = table_of(EngineCursor)
    statement = insert(table).values(name=name, position=0, updated_at=now).on_conflict_do_nothing()
    return session.execute(statement.returning(table.c.name)).first() is not None


def segments_used(definitions: list[ScenarioDefinition]) -> set[str]:
    """The segments active scenarios depend on: triggers, schedule audiences and branch conditions."""
    names: set[str] = set()
    for definition in definitions:
        trigger = definition.trigger
        if isinstance(trigger, SegmentTrigger):
            names.add(trigger.segment)
        elif isinstance(trigger, ScheduleTrigger) and trigger.schedule.segment:
            names.add(trigger.schedule.segment)
        for step in definition.steps:
            if isinstance(step, BranchStep):
                names |= segment_references(step.branch.if_)
    return names


def stale_segments(session: Session, names: set[str], *, now: datetime, every: timedelta) -> list[str]:
    """Of ``names``, the segments never rebuilt or last rebuilt ``every`` or longer before ``now``."""
    if not names:
        return []
    rows = session.execute(select(Segment.name, Segment.rebuilt_at).where(Segment.name.in_(sorted(names))))
    return sorted(name for name, at in rows if at is None or at <= now - every)


def rebuild_stale(
    store: Store,
    session_factory: Callable[[], Session],
    definitions: list[ScenarioDefinition],
    *,
    now: datetime,
    every: timedelta,
) -> list[str]:
    """Rebuild the stale segments the scenarios use (each in its own transaction); returns their names."""
    with session_factory() as session:
        stale = stale_segments(session, segments_used(definitions), now=now, every=every)
    for name in stale:
        rebuild(store, name, now=now)
    return stale
