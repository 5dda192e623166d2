"""Intake: event triggers and their ``where``, segment triggers, and the cursor over out-of-order ids."""

from __future__ import annotations

from datetime import timedelta

from engine_seed import T0, customers, deliveries, event, join_segment, runs, scenario
from sqlalchemy import select

from kizuna.scenarios.engine import run_once
from kizuna.scenarios.engine.claims import safe_position
from kizuna.segments.conditions import parse_condition
from kizuna.segments.registry import SegmentDefinition, save_segments
from kizuna.store import Store
from kizuna.store.automation import EngineCursor

MAIL = {"send": {"channel": "email", "template": "t"}}


def test_event_trigger_filters_on_properties_and_ignores_anonymous_events(store: Store) -> None:
    scenario(
        store,
        {
            "name": "viewed",
            "trigger": {"event": "Product Viewed", "where": {"category": "tea"}},
            "steps": [MAIL],
        },
    )
    a, b = customers(store, 2)
    first = event(store, a, "Product Viewed", T0, {"category": "tea", "product_id": "SKU-1"})
    event(store, b, "Product Viewed", T0, {"category": "coffee"})
    event(store, None, "Product Viewed", T0, {"category": "tea"})
    report = run_once(store, now=T0)
    [run] = runs(store)
    assert (run.customer_id, run.occurrence) == (a, str(first))
    assert run.context["product"] == "SKU-1" and run.context["event"] == first
    assert report.events_read == 3
    with store.session() as session:
        assert session.get(EngineCursor, "events").position == first + 2  # type: ignore[union-attr]


def test_a_segment_entry_enters_the_customer_with_the_stay_as_occurrence(store: Store) -> None:
    scenario(store, {"name": "gold", "trigger": {"segment": "gold"}, "steps": [MAIL]})
    a, b = customers(store, 2)
    join_segment(store, "gold", [a], T0)
    join_segment(store, "silver", [b], T0)
    report = run_once(store, now=T0)
    assert report.segment_entries_read == 2
    assert [(r.customer_id, r.status) for r in runs(store)] == [(a, "done")]
    join_segment(store, "gold", [a], T0 + timedelta(days=1))  # a new stay: a new occurrence
    run_once(store, now=T0 + timedelta(days=1))
    assert len({r.occurrence for r in runs(store)}) == 2 and len(deliveries(store)) == 2


def test_new_events_refresh_segment_membership_which_triggers_the_scenario(store: Store) -> None:
    condition = parse_condition({"event": "Product Viewed", "within_days": 7, "count": {"gte": 2}})
    save_segments(store, [SegmentDefinition(name="keen", condition=condition)])
    scenario(store, {"name": "keen", "trigger": {"segment": "keen"}, "steps": [MAIL]})
    a, b = customers(store, 2)
    for cid in (a, a, b):
        event(store, cid, "Product Viewed", T0 - timedelta(minutes=1))
    run_once(store, now=T0)
    assert [r.customer_id for r in runs(store)] == [a]


def test_the_cursor_stops_before_a_gap_until_it_is_old() -> None:
    lag = timedelta(seconds=5)
    rows = [(11, T0), (12, T0), (14, T0), (15, T0)]
    assert safe_position(10, rows, T0 + timedelta(seconds=1), lag) == 12  # 13 may still commit
    assert safe_position(10, rows, T0 + timedelta(seconds=6), lag) == 15  # 13 was rolled back
    assert safe_position(10, [], T0, lag) == 10


def test_events_after_a_gap_are_acted_on_and_reading_them_again_is_harmless(store: Store) -> None:
    scenario(store, {"name": "viewed", "trigger": {"event": "Viewed"}, "steps": [MAIL]})
    a, b = customers(store, 2)
    first = event(store, a, "Viewed", T0)
    gap = event(store, b, "Other", T0)
    event(store, b, "Viewed", T0)
    with store.session() as session, session.begin():  # as if the transaction that took ``gap`` rolled back
        from kizuna.store.tables import Event

        session.execute(Event.__table__.delete().where(Event.id == gap))
    run_once(store, now=T0 + timedelta(seconds=1))
    with store.session() as session:
        position = session.scalars(select(EngineCursor.position).where(EngineCursor.name == "events")).one()
    assert position == first
    assert sorted(d.customer_id for d in deliveries(store)) == sorted([a, b])
    run_once(store, now=T0 + timedelta(seconds=10))  # the gap is old now: read past it, nothing twice
    with store.session() as session:
        position = session.scalars(select(EngineCursor.position).where(EngineCursor.name == "events")).one()
    assert position == gap + 1
    assert len(deliveries(store)) == 2


def test_past_events_do_not_trigger_a_new_scenario_but_its_segment_members_enter(store: Store) -> None:
    viewed = scenario(
        store, {"name": "viewed", "trigger": {"event": "Viewed"}, "steps": [MAIL]}, created_at=T0
    )
    gold = scenario(store, {"name": "gold", "trigger": {"segment": "gold"}, "steps": [MAIL]}, created_at=T0)
    only_new = scenario(
        store,
        {"name": "gold-new", "trigger": {"segment": "gold", "existing": False}, "steps": [MAIL]},
        created_at=T0,
    )
    old, new = customers(store, 2)
    event(store, old, "Viewed", T0 - timedelta(days=1))
    join_segment(store, "gold", [old], T0 - timedelta(days=1))
    event(store, new, "Viewed", T0 + timedelta(minutes=1))
    join_segment(store, "gold", [new], T0 + timedelta(minutes=1))
    run_once(store, now=T0 + timedelta(minutes=2))
    entered = {(r.scenario_id, r.customer_id) for r in runs(store)}
    assert entered == {(viewed, new), (gold, old), (gold, new), (only_new, new)}
    run_once(store, now=T0 + timedelta(minutes=3))  # those already in the segment enter once
    assert len(runs(store)) == 4 and len(deliveries(store)) == 4
