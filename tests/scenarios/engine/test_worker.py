"""The worker's pass: intake, due runs, dry runs and idempotency."""

from __future__ import annotations

import threading
from datetime import timedelta

from engine_seed import T0, customers, deliveries, event, runs, scenario

from kizuna.scenarios.engine import RunReport, run_forever, run_once
from kizuna.store import Store

WELCOME = {
    "name": "welcome",
    "trigger": {"event": "Signed Up"},
    "steps": [
        {"send": {"channel": "email", "template": "welcome"}},
        {"wait": "1d"},
        {"send": {"channel": "email", "template": "second"}},
    ],
}


def test_an_event_enters_the_customer_and_the_first_send_is_written(store: Store) -> None:
    sid = scenario(store, WELCOME)
    a, b = customers(store, 2)
    event(store, a, "Signed Up", T0)
    event(store, b, "Page Viewed", T0)
    report = run_once(store, now=T0 + timedelta(seconds=1))
    written = deliveries(store)
    assert [(d.customer_id, d.template, d.status) for d in written] == [(a, "welcome", "pending")]
    assert written[0].key.startswith(f"{sid}:step-1:{a}:")
    assert report.entered == 1 and report.deliveries == 1 and report.events_read == 2
    [run] = runs(store)
    assert run.status == "waiting" and run.step == "step-3"
    assert run.wake_at == T0 + timedelta(seconds=1) + timedelta(days=1)


def test_the_same_pass_twice_writes_nothing_new(store: Store) -> None:
    scenario(store, WELCOME)
    [a] = customers(store, 1)
    event(store, a, "Signed Up", T0)
    run_once(store, now=T0)
    before = [(d.key, d.status) for d in deliveries(store)], [(r.id, r.step, r.status) for r in runs(store)]
    again = run_once(store, now=T0)
    after = [(d.key, d.status) for d in deliveries(store)], [(r.id, r.step, r.status) for r in runs(store)]
    assert after == before
    assert again.entered == 0 and again.deliveries == 0


def test_the_wait_ends_and_the_next_send_follows(store: Store) -> None:
    scenario(store, WELCOME)
    [a] = customers(store, 1)
    event(store, a, "Signed Up", T0)
    run_once(store, now=T0)
    run_once(store, now=T0 + timedelta(hours=23))
    assert [d.template for d in deliveries(store)] == ["welcome"]
    report = run_once(store, now=T0 + timedelta(days=1, seconds=1))
    assert [d.template for d in deliveries(store)] == ["welcome", "second"]
    assert report.done == 1
    assert runs(store)[0].status == "done"


def test_a_dry_run_reports_and_writes_nothing(store: Store) -> None:
    scenario(store, WELCOME)
    [a] = customers(store, 1)
    event(store, a, "Signed Up", T0)
    report = run_once(store, now=T0, dry_run=True)
    assert report.dry_run and report.entered == 1 and report.deliveries == 1
    assert deliveries(store) == [] and runs(store) == []
    assert run_once(store, now=T0).deliveries == 1


def test_run_forever_passes_until_stopped(store: Store) -> None:
    scenario(store, WELCOME)
    [a] = customers(store, 1)
    event(store, a, "Signed Up", T0)
    stop = threading.Event()
    passes: list[RunReport] = []

    def seen(report: RunReport) -> None:
        passes.append(report)
        if len(passes) == 2:
            stop.set()

    total = run_forever(store, poll_interval=0, stop=stop, now=lambda: T0, on_pass=seen)
    assert len(passes) == 2 and passes[0].deliveries == 1 and not passes[1].busy()
    assert total.deliveries == 1 and len(deliveries(store)) == 1
