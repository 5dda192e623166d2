"""Claims: due runs of active scenarios, oldest first; two workers at once take different runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from engine_seed import T0, customers, scenario, set_status

from kizuna.scenarios.engine import enter, load_active
from kizuna.scenarios.engine.claims import claim_due
from kizuna.store import Store

FLOW = {
    "name": "flow",
    "trigger": {"event": "Go"},
    "steps": [{"send": {"channel": "email", "template": "t"}}],
}


def _due_runs(store: Store, n: int) -> None:
    """``n`` runs (ids 1 ... n) entered a minute apart."""
    scenario(store, FLOW)
    people = customers(store, n)
    with store.session() as session, session.begin():
        loaded = next(iter(load_active(session).values()))
        for k, cid in enumerate(reversed(people)):
            enter(session, loaded, [cid], now=T0 + timedelta(minutes=k), occurrence="x")


def test_claims_take_due_runs_oldest_first_and_skip_paused_scenarios(store: Store) -> None:
    _due_runs(store, 5)
    with store.session() as session, session.begin():
        active = load_active(session)
        assert [r.id for r in claim_due(session, active.keys(), T0 + timedelta(minutes=2), 10)] == [1, 2, 3]
        assert [r.id for r in claim_due(session, active.keys(), T0 + timedelta(minutes=9), 2)] == [1, 2]
    set_status(store, 1, "paused")
    with store.session() as session, session.begin():
        assert claim_due(session, load_active(session).keys(), T0 + timedelta(days=1), 10) == []


def test_two_workers_claiming_at_once_take_different_runs(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite has one writer: a second claim waits for the first")
    _due_runs(store, 10)
    later = T0 + timedelta(days=1)
    with store.session() as first, first.begin(), store.session() as second, second.begin():
        ids = load_active(first).keys()
        mine = [r.id for r in claim_due(first, ids, later, 6)]
        theirs = [r.id for r in claim_due(second, ids, later, 6)]
    assert len(mine) == 6 and len(theirs) == 4 and set(mine).isdisjoint(theirs)
