"""Policies at the point of action: goal, frequency caps, quiet hours, consent, pause, ``unless``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine_seed import T0, customers, deliveries, event, runs, scenario, set_status
from sqlalchemy import update

from kizuna.privacy.consent import Purpose, consented, may, record_consent
from kizuna.scenarios.engine import run_once
from kizuna.store import Store
from kizuna.store.automation import Delivery

MAIL = {"send": {"channel": "email", "template": "t"}}


def _flow(steps: list[dict[str, Any]], name: str = "flow", **policies: Any) -> dict[str, Any]:
    return {"name": name, "trigger": {"event": "Go"}, "steps": steps, **policies}


def test_a_goal_event_ends_the_run_on_intake(store: Store) -> None:
    scenario(store, _flow([{"wait": "1d"}, MAIL], goal={"event": "Order Completed"}))
    a, b = customers(store, 2)
    for cid in (a, b):
        event(store, cid, "Go", T0)
    run_once(store, now=T0)
    event(store, a, "Order Completed", T0 + timedelta(hours=2))
    report = run_once(store, now=T0 + timedelta(hours=2))
    assert report.exited == 1
    assert {r.customer_id: (r.status, r.exit_reason) for r in runs(store)}[a] == ("exited", "goal")
    run_once(store, now=T0 + timedelta(days=2))
    assert [d.customer_id for d in deliveries(store)] == [b]


def test_a_goal_reached_before_the_send_is_checked_again_at_the_send(store: Store) -> None:
    sid = scenario(store, _flow([{"wait": "1d"}, MAIL], goal={"event": "Order Completed"}))
    [a] = customers(store)
    event(store, a, "Go", T0)
    run_once(store, now=T0)
    set_status(store, sid, "paused")  # intake does not see the goal while paused ...
    event(store, a, "Order Completed", T0 + timedelta(hours=2))
    run_once(store, now=T0 + timedelta(hours=3))
    set_status(store, sid, "active")  # ... but the send does
    run_once(store, now=T0 + timedelta(days=2))
    assert deliveries(store) == []
    assert runs(store)[0].exit_reason == "goal"


def test_frequency_cap_counts_every_scenarios_deliveries(store: Store) -> None:
    cap = [{"channel": "email", "max": 2, "per": "7d"}]
    scenario(store, _flow([MAIL], name="one"))
    scenario(store, {"name": "two", "trigger": {"event": "Go"}, "steps": [MAIL, MAIL], "frequency_caps": cap})
    [a] = customers(store)
    event(store, a, "Go", T0)
    report = run_once(store, now=T0)
    statuses = sorted((d.scenario_id, d.step, d.status, d.error) for d in deliveries(store))
    assert [s[2] for s in statuses].count("pending") == 2
    suppressed = [s for s in statuses if s[2] == "suppressed"]
    assert len(suppressed) == 1 and suppressed[0][3] == "frequency cap"
    assert report.suppressed == 1
    # eight days later the first three fall out of the window: the same again, not all suppressed
    event(store, a, "Go", T0 + timedelta(days=8))
    run_once(store, now=T0 + timedelta(days=8))
    assert sorted(d.status for d in deliveries(store)[3:]) == ["pending", "pending", "suppressed"]


def test_no_consent_suppresses_the_send_and_names_the_purpose(store: Store) -> None:
    scenario(store, _flow([MAIL, {"send": {"channel": "webhook", "template": "crm"}}]))
    [a] = customers(store, consent=())
    event(store, a, "Go", T0)
    run_once(store, now=T0)
    got = [(d.channel, d.status, d.error) for d in deliveries(store)]
    assert got == [("email", "suppressed", "no consent: email"), ("webhook", "pending", None)]


def test_quiet_hours_across_midnight_wait_for_their_end_in_each_timezone(store: Store) -> None:
    scenario(store, _flow([MAIL], quiet_hours={"start": "21:00", "end": "09:00"}))
    [tokyo] = customers(store)  # 23:30 in Tokyo: quiet
    [london] = customers(store, timezone="Europe/London")  # 14:30 in London: fine
    [ny] = customers(store, timezone="America/New_York")  # 09:30 in New York: fine
    now = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    for cid in (tokyo, london, ny):
        event(store, cid, "Go", now)
    report = run_once(store, now=now)
    assert sorted(d.customer_id for d in deliveries(store)) == sorted([london, ny])
    assert report.deferred == 1
    [waiting] = [r for r in runs(store) if r.customer_id == tokyo]
    assert waiting.wake_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    run_once(store, now=datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    assert sorted(d.customer_id for d in deliveries(store)) == sorted([tokyo, london, ny])


def test_a_paused_scenario_keeps_its_runs_where_they_are(store: Store) -> None:
    sid = scenario(store, _flow([{"wait": "1h"}, MAIL]))
    [a, b] = customers(store, 2)
    event(store, a, "Go", T0)
    run_once(store, now=T0)
    set_status(store, sid, "paused")
    event(store, b, "Go", T0 + timedelta(minutes=5))
    run_once(store, now=T0 + timedelta(hours=2))
    assert deliveries(store) == [] and [r.customer_id for r in runs(store)] == [a]
    set_status(store, sid, "active")
    run_once(store, now=T0 + timedelta(hours=3))
    assert [d.customer_id for d in deliveries(store)] == [a]


def _unless(store: Store) -> tuple[int, int]:
    trigger = {"event": "Product Added", "unless": {"event": "Order Completed", "within": "24h"}}
    scenario(store, {"name": "cart", "trigger": trigger, "steps": [MAIL]})
    buyer, idle = customers(store, 2)
    for cid in (buyer, idle):
        event(store, cid, "Product Added", T0)
    run_once(store, now=T0)
    assert deliveries(store) == [] and {r.waiting_for for r in runs(store)} == {"Order Completed"}
    return buyer, idle


def test_unless_cancels_the_entry_when_the_event_follows_in_time(store: Store) -> None:
    buyer, idle = _unless(store)
    event(store, buyer, "Order Completed", T0 + timedelta(hours=3))
    run_once(store, now=T0 + timedelta(hours=3))
    assert {r.customer_id: r.exit_reason for r in runs(store)}[buyer] == "unless"
    run_once(store, now=T0 + timedelta(hours=24, seconds=1))
    assert [d.customer_id for d in deliveries(store)] == [idle]


def test_unless_lets_the_customer_in_when_the_window_closes_first(store: Store) -> None:
    buyer, idle = _unless(store)
    run_once(store, now=T0 + timedelta(hours=24, seconds=1))
    event(store, buyer, "Order Completed", T0 + timedelta(hours=30))  # too late to cancel
    run_once(store, now=T0 + timedelta(hours=30))
    assert sorted(d.customer_id for d in deliveries(store)) == sorted([buyer, idle])
    assert {r.status for r in runs(store)} == {"done"}


def test_batch_consent_answers_as_may_does(store: Store) -> None:
    people = customers(store, 5, consent=())
    granted, withdrawn, denied, later, never = people
    history = [
        (granted, "granted", T0 - timedelta(days=2)),
        (withdrawn, "granted", T0 - timedelta(days=2)),
        (withdrawn, "withdrawn", T0 - timedelta(days=1)),
        (denied, "denied", T0 - timedelta(days=1)),
        (later, "granted", T0 + timedelta(days=1)),  # recorded after the moment asked about
    ]
    with store.session() as session, session.begin():
        for cid, status, at in history:
            record_consent(session, cid, "email", status, at=at)
    with store.session() as session:
        batch = consented(session, people, Purpose.EMAIL, T0)
        one_by_one = {c for c in people if may(session, c, Purpose.EMAIL, at=T0)}
    assert batch == one_by_one == {granted}
    assert never not in batch


def test_a_goal_named_like_the_trigger_waits_for_the_next_such_event(store: Store) -> None:
    # Every order starts a flyer run whose goal is the next order: the order that started it is not the goal.
    flow = {
        "name": "next-order",
        "trigger": {"event": "Order Completed"},
        "goal": {"event": "Order Completed"},
        "steps": [{"wait": "1d"}, MAIL],
    }
    scenario(store, flow)
    a, b = customers(store, 2)
    for cid in (a, b):
        event(store, cid, "Order Completed", T0)
    run_once(store, now=T0)
    assert {r.status for r in runs(store)} == {"waiting"}
    event(store, b, "Order Completed", T0 + timedelta(hours=3))  # b orders again: b's first run is done
    run_once(store, now=T0 + timedelta(hours=3))
    run_once(store, now=T0 + timedelta(days=1, hours=1))
    first_runs = {r.customer_id: r for r in runs(store) if r.entered_at == T0}
    assert (first_runs[a].status, first_runs[b].exit_reason) == ("done", "goal")
    assert a in {d.customer_id for d in deliveries(store)}


def test_unless_named_like_the_trigger_needs_a_second_event(store: Store) -> None:
    flow = {
        "name": "single-view",
        "trigger": {"event": "Viewed", "unless": {"event": "Viewed", "within": "1h"}},
        "reentry": "never",
        "steps": [MAIL],
    }
    scenario(store, flow)
    a, b = customers(store, 2)
    for cid in (a, b):
        event(store, cid, "Viewed", T0)
    event(store, b, "Viewed", T0 + timedelta(minutes=10))
    run_once(store, now=T0 + timedelta(minutes=10))
    run_once(store, now=T0 + timedelta(hours=2))
    assert [d.customer_id for d in deliveries(store)] == [a]


def test_a_delivery_being_sent_counts_towards_the_cap(store: Store) -> None:
    # A dispatcher has claimed the first scenario's message (status ``sending``) when the second one's send
    # step runs: the cap of one email a week must still hold.
    cap = [{"channel": "email", "max": 1, "per": "7d"}]
    scenario(store, _flow([MAIL], name="first"))
    scenario(store, {"name": "second", "trigger": {"event": "Later"}, "steps": [MAIL], "frequency_caps": cap})
    [a] = customers(store)
    event(store, a, "Go", T0)
    run_once(store, now=T0)
    with store.session() as session, session.begin():
        session.execute(update(Delivery).values(status="sending"))
    event(store, a, "Later", T0 + timedelta(minutes=1))
    run_once(store, now=T0 + timedelta(minutes=1))
    assert sorted((d.status, d.error) for d in deliveries(store)) == [
        ("sending", None),
        ("suppressed", "frequency cap"),
    ]
