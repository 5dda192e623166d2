"""The scenario engine's speed: event → outbox latency, and customers per second through a send step.

1. **latency**: a worker (``kizuna run``, a separate process) runs on a fresh store with an event-triggered
   scenario whose first step is a send; Segment-shaped track events are inserted at ``--rate`` per second
   for ``--seconds``; per delivery, ``deliveries.created_at − events.received_at`` of its trigger event.
   Target: p95 ≤ 1 s.
2. **throughput**: a demo store of ``--customers`` (``kizuna demo-data``, cached under /tmp/kz-bench/ for
   SQLite) where every customer enters a segment at once; one ``run_once`` enters them all into a
   segment-triggered scenario and moves them through its send step. Target: ≥ 5,000 customers/s.

    .venv/bin/python benchmarks/scenarios_engine.py                         # SQLite files in /tmp/kz-bench
    .venv/bin/python benchmarks/scenarios_engine.py --db postgresql+psycopg://USER@HOST/DB

The PostgreSQL database is used as the cache of the demo store: its engine tables are emptied first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from kizuna.scenarios.definition import parse_scenario, scenario_to_data
from kizuna.scenarios.engine import run_once
from kizuna.store import Store, close_stores, open_store
from kizuna.store.automation import Delivery, EngineCursor, Scenario, ScenarioRun, Segment, SegmentMember
from kizuna.store.tables import Campaign, Customer, Event, table_of
from kizuna.store.types import utcnow

CACHE = Path("/tmp/kz-bench")
KIZUNA = [sys.executable, "-c", "from kizuna.cli import main; main()"]
ENGINE_TABLES = "deliveries, scenario_runs, segment_members, segments, scenarios, engine_cursors"


def _reset_engine(store: Store) -> None:
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {ENGINE_TABLES} RESTART IDENTITY CASCADE"))
        else:
            for table in ENGINE_TABLES.split(", "):
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text(
                "DELETE FROM campaign_members WHERE campaign_id IN "
                "(SELECT id FROM campaigns WHERE external_id LIKE 'scenario:bench-%')"
            )
        )
        conn.execute(text("DELETE FROM campaigns WHERE external_id LIKE 'scenario:bench-%'"))


def _add_scenario(store: Store, data: dict[str, object]) -> int:
    definition = parse_scenario(data)
    with store.session() as session, session.begin():
        campaign = Campaign(external_id=f"scenario:{definition.name}", name=definition.name, kind="scenario")
        session.add(campaign)
        session.flush()
        row = Scenario(
            name=definition.name,
            definition=scenario_to_data(definition),
            campaign_id=campaign.id,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return row.id


def _skip_old_events(store: Store) -> None:
    """Start the event intake after the demo's own events: the benchmark measures the segment path."""
    with store.session() as session, session.begin():
        last = session.scalar(select(func.max(Event.id))) or 0
        session.add(EngineCursor(name="events", position=last, updated_at=utcnow()))


def latency(url: str, rate: int, seconds: float, customers: int) -> None:
    store = open_store(url)
    _reset_engine(store)
    _skip_old_events(store)
    with store.session() as session, session.begin():
        have = session.scalar(select(func.count()).select_from(Customer)) or 0
        if have < customers:
            session.execute(
                insert(table_of(Customer)),
                [{"external_id": f"lat-{i}", "attributes": {}} for i in range(have, customers)],
            )
        ids = list(session.scalars(select(Customer.id).order_by(Customer.id).limit(customers)))
    _add_scenario(
        store,
        {
            "name": "bench-latency",
            "trigger": {"event": "Bench Clicked"},
            "steps": [{"send": {"channel": "webhook", "template": "ping"}}],
        },
    )
    worker = subprocess.Popen([*KIZUNA, "run", "--db", url], stdout=subprocess.DEVNULL)
    time.sleep(3)  # start-up: imports and the first pass
    sent = 0
    tick = 0.02
    per_tick = max(1, round(rate * tick))
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            due = started + (sent // per_tick) * tick
            time.sleep(max(0.0, due - time.perf_counter()))
            now = utcnow()
            with store.session() as session, session.begin():
                session.execute(
                    insert(table_of(Event)),
                    [
                        {
                            "message_id": f"bench-{now.timestamp()}-{k}",
                            "type": "track",
                            "name": "Bench Clicked",
                            "customer_id": ids[(sent + k) % len(ids)],
                            "occurred_at": now,
                            "received_at": now,
                            "properties": {},
                            "context": {},
                        }
                        for k in range(per_tick)
                    ],
                )
            sent += per_tick
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with store.session() as session:
                done = session.scalar(select(func.count()).select_from(Delivery)) or 0
            if done >= sent:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    elapsed = time.perf_counter() - started
    with store.session() as session:
        rows = session.execute(
            select(Delivery.created_at, Event.received_at)
            .join(ScenarioRun, ScenarioRun.id == Delivery.run_id)
            .join(Event, func.cast(Event.id, Delivery.key.type) == ScenarioRun.occurrence)
        ).all()
    waits = sorted((created - received).total_seconds() for created, received in rows)
    p95 = waits[int(0.95 * (len(waits) - 1))] if waits else float("nan")
    print(
        f"latency [{store.dialect}]: {sent} events at {sent / seconds:.0f}/s over {seconds:.0f} s "
        f"(run {elapsed:.1f} s); deliveries {len(waits)}; "
        f"p50 {statistics.median(waits):.3f} s, p95 {p95:.3f} s, max {waits[-1]:.3f} s "
        f"→ {'PASS' if p95 <= 1.0 else 'FAIL'} (p95 ≤ 1 s)"
    )


def _demo_store(url: str | None, customers: int) -> str:
    if url is not None:
        store = open_store(url)
        with store.session() as session:
            have = session.scalar(select(func.count()).select_from(Customer)) or 0
        if have < customers:
            subprocess.run([*KIZUNA, "demo-data", "--customers", str(customers), "--db", url], check=True)
        return url
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"demo-{customers}.db"
    if not cached.exists():
        building = cached.with_suffix(".building")
        subprocess.run(
            [*KIZUNA, "demo-data", "--customers", str(customers), "--db", f"sqlite:///{building}"], check=True
        )
        building.rename(cached)
    work = CACHE / "engine-work.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copy(cached, work)
    return f"sqlite:///{work}"


def throughput(url: str | None, customers: int) -> None:
    target = _demo_store(url, customers)
    store = open_store(target)
    _reset_engine(store)
    _skip_old_events(store)
    _add_scenario(
        store,
        {
            "name": "bench-throughput",
            "trigger": {"segment": "bench-everyone"},
            "steps": [{"send": {"channel": "email", "template": "sale"}}],
        },
    )
    now = utcnow()
    with store.session() as session, session.begin():
        segment = Segment(name="bench-everyone", definition={"attribute": "external_id", "exists": True})
        session.add(segment)
        session.flush()
        ids = list(session.scalars(select(Customer.id).order_by(Customer.id).limit(customers)))
        session.execute(
            insert(table_of(SegmentMember)),
            [{"segment_id": segment.id, "customer_id": c, "entered_at": now} for c in ids],
        )
    started = time.perf_counter()
    report = run_once(store, now=now + timedelta(seconds=1))
    elapsed = time.perf_counter() - started
    moved = report.deliveries + report.suppressed
    print(
        f"throughput [{store.dialect}]: {len(ids)} customers entered, {moved} through the send step "
        f"({report.deliveries} pending, {report.suppressed} suppressed for consent) in {elapsed:.1f} s "
        f"= {moved / elapsed:,.0f} customers/s → {'PASS' if moved / elapsed >= 5_000 else 'FAIL'} (≥ 5,000/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="PostgreSQL URL (default: SQLite files under /tmp/kz-bench)")
    parser.add_argument("--rate", type=int, default=500, help="events per second (latency)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long events are sent (latency)")
    parser.add_argument("--customers", type=int, default=100_000, help="demo store size (throughput)")
    parser.add_argument("--only", choices=["latency", "throughput"], help="run one of the two")
    args = parser.parse_args()
    os.environ.setdefault("KIZUNA_DATA_DIR", str(CACHE / "data"))
    if args.only != "throughput":
        url = args.db
        if url is None:
            CACHE.mkdir(parents=True, exist_ok=True)
            path = CACHE / "latency.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        latency(url, args.rate, args.seconds, 2_000)
        close_stores()
    if args.only != "latency":
        throughput(args.db, args.customers)


if __name__ == "__main__":
    main()
