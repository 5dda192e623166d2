"""Entering: idempotency, the re-entry policies, the control group and the store-wide holdout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from engine_seed import T0, customers, deliveries, event, runs, scenario
from sqlalchemy import select

from kizuna.config import get_settings
from kizuna.scenarios.assign import in_control, in_holdout
from kizuna.scenarios.engine import LoadedScenario, enter, run_once
from kizuna.store import Store
from kizuna.store.automation import Scenario
from kizuna.store.tables import CampaignMember


def _data(reentry: object = "after_exit", **extra: object) -> dict[str, object]:
    return {
        "name": "visit",
        "trigger": {"event": "Product Viewed"},
        "reentry": reentry,
        "steps": [{"send": {"channel": "email", "template": "hello"}}, {"wait": "2d"}],
        **extra,
    }


def _entries(store: Store, cid: int, days: list[float], reentry: object) -> list[str]:
    """Send the trigger event on each day (running a pass after each); the statuses of the runs."""
    scenario(store, _data(reentry))
    for day in days:
        at = T0 + timedelta(days=day)
        event(store, cid, "Product Viewed", at)
        run_once(store, now=at + timedelta(seconds=1))
    return [r.status for r in runs(store)]


def test_never_lets_a_customer_in_once(store: Store) -> None:
    [a] = customers(store)
    assert _entries(store, a, [0, 1, 10], "never") == ["done"]
    assert runs(store)[0].occurrence == "once"


def test_after_exit_waits_for_the_run_in_progress_to_end(store: Store) -> None:
    [a] = customers(store)
    # day 1: still waiting (2 days) → refused; day 3: the first run is done → a new run
    assert _entries(store, a, [0, 1, 3], "after_exit") == ["done", "waiting"]


def test_after_a_duration_also_waits_since_the_last_entry(store: Store) -> None:
    [a] = customers(store)
    # day 3: first run done but only 3 of 7 days passed → refused; day 7.5: allowed
    assert _entries(store, a, [0, 3, 7.5], {"after": "7d"}) == ["done", "waiting"]


def test_enter_is_idempotent_and_a_customer_named_twice_enters_once(store: Store) -> None:
    sid = scenario(store, _data())
    a, b = customers(store, 2)
    with store.session() as session, session.begin():
        row = session.get(Scenario, sid)
        assert row is not None
        loaded = LoadedScenario.of(row)
        first = enter(session, loaded, [a, b, a], now=T0, occurrence="x")
        again = enter(session, loaded, [a, b], now=T0, occurrence="x")
    assert (first.entered, again.entered) == (2, 0)
    assert sorted(r.customer_id for r in runs(store)) == [a, b]


def test_control_group_and_holdout_are_recorded_and_never_contacted(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIZUNA_HOLDOUT_FRACTION", "0.2")
    get_settings.cache_clear()
    people = customers(store, 200)
    scenario(store, _data(control=0.3))
    for cid in people:
        event(store, cid, "Product Viewed", T0)
    report = run_once(store, now=T0)
    holdout = {c for c in people if in_holdout(c)}
    control = {c for c in people if c not in holdout and in_control("visit", c, 0.3)}
    treated = set(people) - holdout - control
    assert holdout and control and treated
    status = {r.customer_id: r.status for r in runs(store)}
    assert {c for c, s in status.items() if s == "holdout"} == holdout
    assert {c for c, s in status.items() if s == "control"} == control
    assert {d.customer_id for d in deliveries(store)} == treated
    assert (report.holdout, report.control, report.entered) == (len(holdout), len(control), len(treated))
    with store.session() as session:
        members = {m.customer_id: (m.arm, m.is_control) for m in session.scalars(select(CampaignMember))}
    assert {c for c, (arm, kept) in members.items() if arm == "holdout" and kept} == holdout
    assert {c for c, (arm, kept) in members.items() if arm == "control" and kept} == control
    assert {c for c, (_, kept) in members.items() if not kept} == treated


def test_a_scenario_may_opt_out_of_the_holdout(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_HOLDOUT_FRACTION", "0.5")
    get_settings.cache_clear()
    people = customers(store, 40)
    scenario(store, _data(holdout=False))
    for cid in people:
        event(store, cid, "Product Viewed", T0)
    run_once(store, now=T0)
    assert any(in_holdout(c) for c in people)
    assert {r.status for r in runs(store)} == {"waiting"}
