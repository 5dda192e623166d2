from __future__ import annotations

from datetime import timedelta

from engine_seed import T0, customers, deliveries, join_segment, runs, scenario

from kizuna.scenarios.definition import parse_scenario
from kizuna.scenarios.engine import run_once
from kizuna.scenarios.engine.state import LoadedScenario, RunReport
from kizuna.scenarios.engine.upkeep import enter_existing, segments_used, stale_segments
from kizuna.segments.conditions import parse_condition
from kizuna.segments.membership import rebuild
from kizuna.segments.registry import SegmentDefinition, save_segments
from kizuna.store import Store
from kizuna.store.automation import Scenario
from kizuna.store.tables import Order

MAIL = {"send": {"channel": "email", "template": "t"}}


def test_time_alone_moves_a_customer_into_a_scenario_segment(store: Store) -> None:
    # Nobody sends an event: the customer becomes lapsed because days pass, and the worker's periodic
    # rebuild of the segment is what enters them.
    lapsed = parse_condition({"measure": "days_since_last_order", "gte": 30})
    save_segments(store, [SegmentDefinition(name="lapsed", condition=lapsed)])
    scenario(store, {"name": "winback", "trigger": {"segment": "lapsed"}, "steps": [MAIL]})
    [a] = customers(store)
    with store.session() as session, session.begin():
        session.add(Order(external_id="o-1", customer_id=a, ordered_at=T0 - timedelta(days=20), total=1000))
    run_once(store, now=T0)
    assert runs(store) == []
    run_once(store, now=T0 + timedelta(days=5))  # 25 days: not yet
    assert runs(store) == []
    run_once(store, now=T0 + timedelta(days=11))  # 31 days since the order
    assert [r.customer_id for r in runs(store)] == [a]
    assert [d.customer_id for d in deliveries(store)] == [a]


def test_a_segment_is_rebuilt_only_when_its_last_rebuild_is_old_enough(store: Store) -> None:
    save_segments(
        store, [SegmentDefinition(name="all", condition=parse_condition({"attribute": "x", "exists": True}))]
    )
    with store.session() as session:
        assert stale_segments(session, {"all"}, now=T0, every=timedelta(hours=1)) == ["all"]  # never built
    definition = parse_scenario({"name": "s", "trigger": {"segment": "all"}, "steps": [MAIL]})
    assert segments_used([definition]) == {"all"}
    rebuild(store, "all", now=T0)
    with store.session() as session:
        assert (
            stale_segments(session, {"all"}, now=T0 + timedelta(minutes=59), every=timedelta(hours=1)) == []
        )
        assert stale_segments(session, {"all"}, now=T0 + timedelta(hours=1), every=timedelta(hours=1)) == [
            "all"
        ]


def test_segments_in_branches_and_schedules_count_as_used() -> None:
    definition = parse_scenario(
        {
            "name": "s",
            "trigger": {"schedule": {"every": "1d", "segment": "subscribers"}},
            "steps": [
                {"branch": {"if": {"not": {"segment": "vip"}}, "then": "mail"}},
                {"id": "mail", **MAIL},
            ],
        }
    )
    assert segments_used([definition]) == {"subscribers", "vip"}


def test_existing_members_are_taken_in_once(store: Store) -> None:
    scenario_id = scenario(store, {"name": "gold", "trigger": {"segment": "gold"}, "steps": [MAIL]})
    a, b = customers(store, 2)
    join_segment(store, "gold", [a, b], T0 - timedelta(days=3))
    with store.session() as session:
        loaded = LoadedScenario.of(session.get_one(Scenario, scenario_id))
    with store.session() as session, session.begin():
        report = RunReport()
        assert enter_existing(session, loaded, now=T0, report=report) is True
        assert report.entered == 2
    with store.session() as session, session.begin():
        assert enter_existing(session, loaded, now=T0, report=RunReport()) is False
    assert sorted(r.customer_id for r in runs(store)) == [a, b]
