"""How long rebuilding each built-in segment takes on the demo store, and a refresh of a few customers.

Reuses the store at ``--db`` when it already holds customers (build one once with ``kizuna demo-data
--customers 1000000 --as-of 2026-01-31``); an empty store, or the default SQLite file
``/tmp/kz-bench/demo-N.db``, is filled with the demo generator first. Each built-in segment is stored
afresh (so the first rebuild writes every member), rebuilt, rebuilt again with nothing changed, and rebuilt
a day later. Then every built-in is refreshed for ``--refresh`` customers at once, as the scenario engine
does for customers whose events just arrived. Target: at most 5 s per segment at 1,000,000 customers.

    .venv/bin/python benchmarks/segments_rebuild.py --db sqlite:////tmp/kz-bench/demo-1m.db
    .venv/bin/python benchmarks/segments_rebuild.py --customers 100000
    .venv/bin/python benchmarks/segments_rebuild.py --db postgresql+psycopg://USER@HOST/DB
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from kizuna.ingest.demo import generate_demo_store
from kizuna.segments.builtin import BUILTINS
from kizuna.segments.membership import rebuild, refresh
from kizuna.segments.registry import save_segments
from kizuna.store import Store, open_store
from kizuna.store.automation import Segment
from kizuna.store.bulk import count_rows
from kizuna.store.tables import Consent, Customer, Event, Order, OrderLine

TARGET_SECONDS = 5.0


def _prepare(store: Store, customers: int, seed: int, as_of: date) -> None:
    with store.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
    if have:
        print(f"reusing the store: {have:,} customers already there", flush=True)
        return
    print(f"generating the demo store: {customers:,} customers (seed {seed}, as of {as_of})", flush=True)
    started = time.perf_counter()
    generate_demo_store(store, customers=customers, seed=seed, as_of=as_of)
    print(f"  in {time.perf_counter() - started:.0f} s", flush=True)


def _reset(store: Store) -> None:
    """Store the built-ins afresh: removing them drops their membership, so the first rebuild is full."""
    with store.engine.begin() as conn:
        conn.execute(delete(Segment).where(Segment.name.in_(list(BUILTINS))))
    save_segments(store, [b.definition() for b in BUILTINS.values()])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store URL (default: sqlite:////tmp/kz-bench/demo-N.db)")
    parser.add_argument("--customers", type=int, default=1_000_000, help="for a store generated here")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-01-31", help="the demo's last day; segments are built "
                        "at the following midnight in Asia/Tokyo")  # fmt: skip
    parser.add_argument("--refresh", type=int, default=300, help="customers in the refresh test")
    args = parser.parse_args()

    as_of = date.fromisoformat(args.as_of)
    url = args.db or f"sqlite:////tmp/kz-bench/demo-{args.customers}.db"
    store = open_store(url)
    _prepare(store, args.customers, args.seed, as_of)
    with store.engine.connect() as conn:
        counts = count_rows(conn, [t.__table__ for t in (Customer, Order, OrderLine, Event, Consent)])
    print(f"store: {store.engine.url.render_as_string()} ({store.dialect})")
    print("rows:  " + ", ".join(f"{n:,} {table}" for table, n in counts.items()))
    now = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), ZoneInfo("Asia/Tokyo"))
    print(f"now:   {now.isoformat()}\n", flush=True)

    _reset(store)
    columns = ("members", 10), ("first s", 9), ("again s", 9), ("next day s", 12), ("in/out", 14)
    print(f"{'segment':<20}" + "".join(f"{c:>{w}}" for c, w in columns) + "  result")
    worst = 0.0
    for name in BUILTINS:
        [first] = rebuild(store, name, now=now)
        [again] = rebuild(store, name, now=now)
        [later] = rebuild(store, name, now=now + timedelta(days=1))
        slowest = max(first.seconds, again.seconds, later.seconds)
        worst = max(worst, slowest)
        verdict = "PASS" if slowest <= TARGET_SECONDS else "FAIL"
        moved = f"+{later.entered:,}/-{later.left:,}"
        print(
            f"{name:<20}{first.members:>10,}{first.seconds:>9.2f}{again.seconds:>9.2f}{later.seconds:>12.2f}"
            f"{moved:>14}  {verdict}",
            flush=True,
        )
    print(f"\nslowest rebuild: {worst:.2f} s (target ≤ {TARGET_SECONDS:.0f} s per built-in segment)")

    with store.engine.connect() as conn:
        top = conn.execute(select(func.max(Customer.id))).scalar_one()
    chosen = random.Random(args.seed).sample(range(1, top + 1), min(args.refresh, top))
    started = time.perf_counter()
    changes = refresh(store, chosen, now=now + timedelta(days=2))
    seconds = time.perf_counter() - started
    print(
        f"refresh of {len(chosen)} customers across {len(BUILTINS)} segments: {seconds:.2f} s "
        f"({len(changes)} entries and exits)"
    )
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
