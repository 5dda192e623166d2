"""Claims: due runs of active scenarios, oldest first; two workers at once take different runs."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from engine_seed import T0, customers, scenario, set_status
from sqlalchemy import select

from kizuna.scenarios.engine import advance, enter, load_active
from kizuna.scenarios.engine.claims import claim_due
from kizuna.store import Store
from kizuna.store.automation import Delivery

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


def test_two_workers_sending_to_one_customer_respect_the_frequency_cap(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite has one writer: the second worker's batch waits for the first anyway")
    cap = [{"channel": "email", "max": 1, "per": "7d"}]
    for name in ("first", "second"):
        scenario(
            store, {"name": name, "trigger": {"event": "Go"}, "steps": FLOW["steps"], "frequency_caps": cap}
        )
    [cid] = customers(store, 1)
    with store.session() as session, session.begin():
        for loaded in load_active(session).values():
            enter(session, loaded, [cid], now=T0, occurrence="x")
    later = T0 + timedelta(minutes=1)
    with store.session() as first, first.begin():
        active = load_active(first)
        [first_id, second_id] = sorted(active)
        advance(first, active, claim_due(first, [first_id], later, 10), now=later)

        def other_worker() -> None:
            with store.session() as second, second.begin():
                advance(second, active, claim_due(second, [second_id], later, 10), now=later)

        racer = threading.Thread(target=other_worker)
        racer.start()
        racer.join(1.0)
        assert racer.is_alive()  # it waits for the customer held by the first worker's batch
    racer.join(10)
    with store.session() as session:
        sent = sorted((d.status, d.error) for d in session.scalars(select(Delivery)))
    assert sent == [("pending", None), ("suppressed", "frequency cap")]
