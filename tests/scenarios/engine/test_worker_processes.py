"""Real worker processes: killed with SIGKILL mid-run and restarted, and several at once on PostgreSQL.

Whatever moment a worker dies at, every expected delivery must exist exactly once in the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from engine_seed import T0, customers, event, join_segment, scenario
from sqlalchemy import func, select

from kizuna.store import Store
from kizuna.store.automation import Delivery, ScenarioRun
from kizuna.store.types import utcnow

PEOPLE = 2_000
STEPS = [
    {"send": {"channel": "email", "template": "first"}},
    {"coupon": {"prefix": "KILL"}},
    {"tag": "reached"},
    {"send": {"channel": "direct_mail", "template": "second"}},
]


def _seed(store: Store) -> tuple[list[int], list[int]]:
    now = utcnow() - timedelta(minutes=1)
    by_segment = scenario(
        store, {"name": "by-segment", "trigger": {"segment": "gold"}, "steps": STEPS}, created_at=T0
    )
    by_event = scenario(
        store, {"name": "by-event", "trigger": {"event": "Joined"}, "steps": STEPS[:1]}, created_at=T0
    )
    people = customers(store, PEOPLE, consent=("email", "direct_mail"), attributes={"rank": "gold"})
    join_segment(store, "gold", people, now)
    for cid in people[: PEOPLE // 4]:
        event(store, cid, "Joined", now)
    return [by_segment, by_event], people


def _expected(people: list[int], ids: list[int]) -> Counter[tuple[int, int, str]]:
    by_segment, by_event = ids
    want: Counter[tuple[int, int, str]] = Counter()
    for cid in people:
        want[(by_segment, cid, "step-1")] += 1
        want[(by_segment, cid, "step-4")] += 1
    for cid in people[: PEOPLE // 4]:
        want[(by_event, cid, "step-1")] += 1
    return want


def _worker(url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KIZUNA_ENGINE_BATCH_SIZE": "150", "KIZUNA_ENGINE_POLL_INTERVAL": "0.05"}
    code = "from kizuna.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "run", "--db", url, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def _wait_for(store: Store, at_least: int, deadline: float, workers: list[subprocess.Popen[bytes]]) -> None:
    while _count(store) < at_least and time.monotonic() < deadline:
        for w in workers:
            assert w.poll() is None, w.communicate()[1].decode()
        time.sleep(0.02)


def _check(store: Store, want: Counter[tuple[int, int, str]]) -> None:
    with store.session() as session:
        rows = session.execute(
            select(Delivery.key, Delivery.scenario_id, Delivery.customer_id, Delivery.step)
        ).all()
        open_runs = session.scalar(select(func.count()).where(ScenarioRun.status == "waiting"))
    keys = Counter(key for key, *_ in rows)
    assert [k for k, n in keys.items() if n > 1] == []
    got = Counter((sid, cid, step) for _, sid, cid, step in rows)
    assert [k for k, n in got.items() if n > 1] == []
    assert sorted(set(want) - set(got)) == []
    assert got == want
    assert open_runs == 0


@pytest.mark.slow
def test_a_worker_killed_at_any_moment_loses_and_repeats_nothing(store: Store) -> None:
    ids, people = _seed(store)
    want = _expected(people, ids)
    deadline = time.monotonic() + 120
    kills = 0
    for target in (1, len(want) // 4, len(want) // 2, (3 * len(want)) // 5):
        worker = _worker(store.url)
        _wait_for(store, target, deadline, [worker])
        worker.send_signal(signal.SIGKILL)
        worker.communicate()
        kills += 1
        assert worker.returncode == -signal.SIGKILL
    assert 0 < _count(store) < len(want)  # it really was stopped part way
    finish = _worker(store.url, "--once")
    _, err = finish.communicate(timeout=120)
    assert finish.returncode == 0, err.decode()
    assert kills == 4
    _check(store, want)


@pytest.mark.slow
def test_several_workers_at_once_share_the_work(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("several workers at once is a PostgreSQL set-up (SQLite has one writer)")
    ids, people = _seed(store)
    want = _expected(people, ids)
    workers = [_worker(store.url) for _ in range(3)]
    try:
        _wait_for(store, len(want), time.monotonic() + 120, workers)
        time.sleep(0.5)  # let any straggling duplicate show itself
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        errors = [w.communicate(timeout=60)[1].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], errors
    _check(store, want)
