"""How fast each dashboard page answers: signs in, requests every page N times, prints median and p95.

Serves the dashboard with uvicorn on a loopback port (as ``kizuna serve`` does, one worker) and asks with
httpx, so the times include HTTP, the session check, the queries and the rendering. A user for the run is
created and removed afterwards. Store-wide figures are cached for ``dashboard_cache_seconds`` (default 60 s):
each page is requested once before timing (the **first** column: the cost of counting afresh), then ``--n``
times. Target: every page under 300 ms (median and p95) on the demo store at a million customers.

    .venv/bin/kizuna demo-data --customers 100000 --db postgresql+psycopg://USER@HOST/DB   # once
    .venv/bin/kizuna train --db postgresql+psycopg://USER@HOST/DB                          # optional
    .venv/bin/python benchmarks/dashboard_pages.py --db postgresql+psycopg://USER@HOST/DB --n 30
"""

from __future__ import annotations

import argparse
import re
import secrets
import socket
import statistics
import sys
import threading
import time

import httpx
import uvicorn
from sqlalchemy import delete, select

from kizuna.api import create_app
from kizuna.config import get_settings
from kizuna.dashboard.users import create_user
from kizuna.store import open_store
from kizuna.store.automation import Delivery, Scenario
from kizuna.store.dashboard import DashboardUser
from kizuna.store.direct_mail import DmBatch
from kizuna.store.tables import Customer

TARGET_MS = 300.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _pages(store_url: str) -> list[str]:
    store = open_store(store_url)
    with store.session() as session:
        customer = session.scalar(select(Delivery.customer_id).order_by(Delivery.id.desc()).limit(1))
        customer = customer or session.scalar(select(Customer.id).order_by(Customer.id.desc()).limit(1))
        external = session.scalar(select(Customer.external_id).where(Customer.id == customer))
        scenario = session.scalar(select(Scenario.name).order_by(Scenario.name).limit(1))
        batch = session.scalar(select(DmBatch.name).order_by(DmBatch.id.desc()).limit(1))
    pages = ["/", "/customers", f"/customers?q={(external or 'demo-00')[:-2]}", f"/customers/{customer}",
             "/segments", "/segments/new", "/scenarios", "/recommendations",
             f"/recommendations?customer={external}", "/direct-mail", "/audiences", "/consents",
             "/privacy"]  # fmt: skip
    if batch:
        at = pages.index("/direct-mail") + 1
        pages[at:at] = [f"/direct-mail/{batch}", f"/direct-mail/{batch}/pages/pieces-001.pdf/1.png"]
    if scenario:
        pages.insert(7, f"/scenarios/{scenario}")
    return pages


def _serve(app: object) -> tuple[str, uvicorn.Server, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def _actions(client: httpx.Client) -> None:
    """The two heavier actions, outside the page budget: a live segment count and a scenario preview."""
    page = client.get("/segments/new")
    token = CSRF.search(page.text)
    assert token is not None
    fields = {"c0_kind": "measure", "c0_field": "frequency", "c0_op": "gte", "c0_value": "2"}
    for label, request in (
        ("live count: frequency >= 2", lambda: client.post(
            "/segments/count.json", json=fields, headers={"X-CSRF-Token": token.group(1)})),
        ("scenario preview (first scenario)", lambda: client.get(_first_scenario(client) + "/preview")),
    ):  # fmt: skip
        times = []
        for _ in range(3):
            started = time.perf_counter()
            answer = request()
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, f"{label}: HTTP {answer.status_code}"
        print(f"{label:<48} {'':>9} {statistics.median(times):>8.1f} {max(times):>8.1f}  (no target)")


def _first_scenario(client: httpx.Client) -> str:
    found = re.search(r'href="(/scenarios/[^"/]+)"', client.get("/scenarios").text)
    assert found is not None, "no scenario to preview"
    return found.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="store URL (a demo store)")
    parser.add_argument("--n", type=int, default=20, help="timed requests per page")
    parser.add_argument("--sign-in-after", type=float, default=0.0, metavar="SECONDS",
                        help="seconds between the server's start and signing in (0: at once)")  # fmt: skip
    args = parser.parse_args()
    store = open_store(args.db)
    email, password = f"bench-{secrets.token_hex(4)}@kizuna.invalid", secrets.token_urlsafe(16)
    with store.session() as session, session.begin():
        create_user(session, email, password, role="marketer")  # marketers see the print previews
    app = create_app(store, settings=get_settings(), warm=True)  # as kizuna serve starts it
    url, server, thread = _serve(app)
    time.sleep(args.sign_in_after)  # meanwhile the server counts its figures and loads its models
    failed = []
    try:
        with httpx.Client(base_url=url, timeout=120, follow_redirects=True) as client:
            token = CSRF.search(client.get("/login").text)
            assert token is not None
            form = {"csrf_token": token.group(1), "email": email, "password": password}
            signed = client.post("/login", data=form, follow_redirects=False)
            assert signed.status_code == 303 and signed.headers["location"] == "/", "sign-in failed"
            print(f"{'page':<48} {'first ms':>9} {'median':>8} {'p95':>8}  result", flush=True)
            for path in _pages(args.db):
                started = time.perf_counter()
                first = client.get(path)
                first_ms = (time.perf_counter() - started) * 1000
                assert first.status_code == 200, f"{path}: HTTP {first.status_code}"
                times = []
                for _ in range(args.n):
                    started = time.perf_counter()
                    answer = client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200
                median = statistics.median(times)
                p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
                ok = p95 < TARGET_MS
                if not ok:
                    failed.append(path)
                verdict = "PASS" if ok else "FAIL"
                print(f"{path[:48]:<48} {first_ms:>9.1f} {median:>8.1f} {p95:>8.1f}  {verdict}", flush=True)
            _actions(client)
    finally:
        server.should_exit = True
        thread.join(10)
        with store.session() as session, session.begin():
            session.execute(delete(DashboardUser).where(DashboardUser.email == email))
    verdict = "FAIL " + ", ".join(failed) if failed else "PASS"
    print(f"target: p95 under {TARGET_MS:.0f} ms on every page: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
