"""Tracking ingestion over HTTP: sustained /v1/batch throughput and latency at a steady rate.

Starts a real ``kizuna serve`` subprocess on loopback for each backend, sends Segment batches to it from
client threads over keep-alive connections, and counts what was sent against what the store holds afterwards
(zero loss is the target). Two phases per backend:

1. **throughput**: as fast as the server takes them, for ``--seconds``; events/s stored.
2. **latency**: a steady ``--rate`` events/s (batches of ``--latency-batch``) for ``--latency-seconds``;
   p50/p95/p99/max of each request, timed from when it was due, so a stalled server cannot hide its queue.

The traffic looks like a shop's: 20,000 visitors with one device each, a fifth of them customers kizuna
already knows; 40 % page views, 40 % product views over a 500-product catalogue, 18.5 % cart adds, and per
1,000 events 4 sign-ups (identify of a new user), 2 identifies of known customers and 1 order.

    .venv/bin/python benchmarks/ingest_http.py                       # SQLite in a temporary directory
    .venv/bin/python benchmarks/ingest_http.py --postgres postgresql+psycopg://USER@HOST/DB
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

from kizuna.ingest.writer import import_run
from kizuna.security.keys import create_key
from kizuna.store import Store, close_stores, open_store
from kizuna.store.tables import Event

TARGET_EVENTS_PER_S = 5_000
#: Visitors (one device each); the first CUSTOMERS of them are customers already known, with their device.
VISITORS = 20_000
CUSTOMERS = 4_000
TARGET_P99_MS = 50.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(url: str, workers: int) -> Iterator[int]:
    """A ``kizuna serve`` subprocess on a free loopback port, stopped afterwards."""
    port = _free_port()
    kizuna = Path(sys.executable).with_name("kizuna")
    command = [str(kizuna), "serve", "--db", url, "--port", str(port), "--workers", str(workers)]
    log = tempfile.NamedTemporaryFile("w+", prefix="kizuna-serve-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"kizuna serve did not start: {Path(log.name).read_text()}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        errors = [line for line in Path(log.name).read_text().splitlines() if "Error" in line]
        for line in errors[-5:]:
            print("   server:", line)
        Path(log.name).unlink()


class Traffic:
    """Batches of a shop's events, each with a message id unique to this run."""

    def __init__(self, run: str, seed: int) -> None:
        self.run = run
        self.rng = random.Random(seed)
        self.n = 0
        self.lock = threading.Lock()
        self.orders = 0

    def _message(self, rng: random.Random, n: int, now: str) -> dict[str, object]:
        visitor = rng.randrange(VISITORS)
        message: dict[str, object] = {
            "messageId": f"{self.run}-{n}",
            "anonymousId": f"{self.run}-v{visitor}",
            "timestamp": now,
            "context": {"page": {"path": "/products", "url": "https://shop.example.jp/products"}},
        }
        if visitor < CUSTOMERS:
            message["userId"] = f"{self.run}-u{visitor}"
        roll = rng.random()
        sku = f"SKU-{rng.randrange(500):04d}"
        if roll < 0.40:
            message |= {"type": "page", "name": "Product List", "properties": {"path": "/products"}}
        elif roll < 0.80:
            props = {"sku": sku, "name": f"商品 {sku}", "price": 1000 + int(sku[-3:]), "category": "食品/茶"}
            message |= {"type": "track", "event": "Product Viewed", "properties": props}
        elif roll < 0.985:
            message |= {"type": "track", "event": "Product Added", "properties": {"sku": sku, "quantity": 1}}
        elif "userId" not in message:
            if roll < 0.99:  # a sign-up: a new customer, identified on this visitor's device
                message |= {"type": "identify", "userId": f"{self.run}-new{n}", "traits": {"plan": "free"}}
            else:
                message |= {"type": "page", "name": "Sign Up", "properties": {"path": "/signup"}}
        elif roll < 0.995:
            message |= {"type": "identify", "traits": {"plan": "free"}}
        else:
            order = {
                "order_id": f"{self.run}-o{n}",
                "total": 3200,
                "currency": "JPY",
                "products": [{"sku": sku, "price": 1600, "quantity": 2}],
            }
            message |= {"type": "track", "event": "Order Completed", "properties": order}
        return message

    def batch(self, size: int) -> bytes:
        with self.lock:
            start, self.n = self.n, self.n + size
            seed = self.rng.random()
        rng = random.Random(seed)
        now = datetime.now(UTC).isoformat()
        messages = [self._message(rng, start + i, now) for i in range(size)]
        return json.dumps({"batch": messages, "sentAt": now}).encode()

    @property
    def sent(self) -> int:
        return self.n


@dataclass
class Phase:
    """What one phase sent and how long each request took."""

    requests: int = 0
    events: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _post(conn: http.client.HTTPConnection, body: bytes, auth: str) -> tuple[int, bytes]:
    conn.request("POST", "/v1/batch", body, {"Authorization": auth, "Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def throughput(port: int, auth: str, traffic: Traffic, seconds: float, size: int, clients: int) -> Phase:
    """Send as fast as the server answers from ``clients`` threads for ``seconds``."""
    phase = Phase()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop:
            body = traffic.batch(size)
            started = time.perf_counter()
            status, text = _post(conn, body, auth)
            took = time.perf_counter() - started
            with lock:
                phase.requests += 1
                phase.latencies.append(took)
                if status == 200:
                    phase.events += size
                else:
                    phase.errors.append(f"{status} {text[:200]!r}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - started
    return phase


def steady(port: int, auth: str, traffic: Traffic, seconds: float, rate: float, size: int) -> Phase:
    """Send ``rate`` events/s in batches of ``size``, each request timed from when it was due."""
    phase = Phase()
    lock = threading.Lock()
    interval = size / rate
    n_requests = int(seconds / interval)
    bodies = [traffic.batch(size) for _ in range(n_requests)]  # built beforehand: the client keeps time
    t0 = time.perf_counter() + 0.2
    next_slot = iter(range(n_requests))
    slot_lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with slot_lock:
                k = next(next_slot, None)
            if k is None:
                return
            due = t0 + k * interval
            body = bodies[k]
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            status, text = _post(conn, body, auth)
            took = time.perf_counter() - due
            with lock:
                phase.requests += 1
                phase.latencies.append(took)
                if status == 200:
                    phase.events += size
                else:
                    phase.errors.append(f"{status} {text[:200]!r}")

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - t0
    return phase


def known(store: Store, run: str) -> None:
    """The shop's existing customers, each with the device they browse on."""
    now = datetime.now(UTC)
    with import_run(store, "benchmark") as (writer, _):
        writer.write_customers([{"external_id": f"{run}-u{v}"} for v in range(CUSTOMERS)])
        ids = writer.customer_ids(f"{run}-u{v}" for v in range(CUSTOMERS))
        writer.write_identities(
            [
                {
                    "customer_id": ids[f"{run}-u{v}"],
                    "kind": "anonymous_id",
                    "value": f"{run}-v{v}",
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
                for v in range(CUSTOMERS)
            ]
        )
    if store.dialect == "postgresql":
        # A live database has statistics (autovacuum); a freshly loaded one gets them now, as it would soon.
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    run = f"bench-{os.getpid()}-{int(time.time())}"
    store = open_store(url)
    with store.session() as session, session.begin():
        _, token = create_key(session, kind="write", name=f"benchmark {name}", source="benchmark")
    known(store, run)
    close_stores()
    auth = "Basic " + b64encode(f"{token}:".encode()).decode()
    traffic = Traffic(run, seed=42)
    with serve(url, args.workers) as port:
        warm = throughput(port, auth, traffic, 2.0, args.batch, args.clients)
        fast = throughput(port, auth, traffic, args.seconds, args.batch, args.clients)
        slow = steady(port, auth, traffic, args.latency_seconds, args.rate, args.latency_batch)
    store = open_store(url)
    with store.engine.connect() as conn:
        stored = conn.execute(select(func.count()).where(Event.message_id.like(f"{run}-%"))).scalar_one()
    close_stores()
    accepted = warm.events + fast.events + slow.events
    rate = fast.events / fast.seconds
    print(f"\n== {name} ({args.workers} worker{'s' if args.workers > 1 else ''}) ==")
    print(
        f"throughput: {fast.events:,} events in {fast.seconds:.1f} s = {rate:,.0f} events/s "
        f"(batches of {args.batch}, {args.clients} clients; request p50 {_pct(fast.latencies, 0.5):.1f} ms, "
        f"p99 {_pct(fast.latencies, 0.99):.1f} ms) "
        f"{'PASS' if rate >= TARGET_EVENTS_PER_S else 'FAIL'} (≥ {TARGET_EVENTS_PER_S:,}/s)"
    )
    p99 = _pct(slow.latencies, 0.99)
    print(
        f"latency at {args.rate:,.0f} events/s "
        f"(batches of {args.latency_batch}, {slow.requests:,} requests): "
        f"p50 {_pct(slow.latencies, 0.5):.1f} ms, p95 {_pct(slow.latencies, 0.95):.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(slow.latencies) * 1000:.1f} ms "
        f"{'PASS' if p99 < TARGET_P99_MS else 'FAIL'} (p99 < {TARGET_P99_MS:.0f} ms)"
    )
    errors = warm.errors + fast.errors + slow.errors
    lost = traffic.sent - stored
    print(
        f"sent {traffic.sent:,} events, answered 200 for {accepted:,}, stored {stored:,}: "
        f"{'zero loss' if stored == accepted == traffic.sent else f'{lost:,} missing'}; "
        f"{len(errors)} failed requests"
    )
    for e in errors[:5]:
        print("  ", e)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="Also (or only, with --no-sqlite) run on PostgreSQL."
    )
    parser.add_argument("--no-sqlite", action="store_true", help="Skip the SQLite run.")
    parser.add_argument("--seconds", type=float, default=30.0, help="Length of the throughput phase.")
    parser.add_argument("--batch", type=int, default=100, help="Events per batch in the throughput phase.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent connections (throughput phase).")
    parser.add_argument("--rate", type=float, default=1_000.0, help="Events/s of the latency phase.")
    parser.add_argument("--latency-batch", type=int, default=10, help="Events per request (latency phase).")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="Length of the latency phase.")
    parser.add_argument("--workers", type=int, default=1, help="kizuna serve --workers.")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores; kizuna serve and the clients share them")
    if not args.no_sqlite:
        folder = Path(tempfile.mkdtemp(prefix="kizuna-bench-"))
        try:
            run_backend("SQLite", f"sqlite:///{folder / 'kizuna.db'}", args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.postgres:
        run_backend("PostgreSQL", args.postgres, args)


if __name__ == "__main__":
    main()
