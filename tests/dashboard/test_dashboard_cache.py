"""Store-wide figures: computed once, served while recounted in the background."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kizuna.api import create_app
from kizuna.config import Settings
from kizuna.dashboard.cache import Aggregates
from kizuna.scenarios.builtin import add_from_template
from kizuna.store import Store


def test_a_figure_is_computed_once_while_fresh() -> None:
    calls: list[int] = []
    cache = Aggregates(60)
    assert cache.get("n", lambda: calls.append(1) or len(calls)) == 1
    assert cache.get("n", lambda: calls.append(1) or len(calls)) == 1
    assert calls == [1]


def test_a_stale_figure_answers_at_once_and_is_recounted_behind() -> None:
    cache = Aggregates(0.5)
    cache.get("n", lambda: "old")
    time.sleep(0.6)
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "new"

    assert cache.get("n", slow) == "old"  # does not wait for the slow count
    release.set()
    deadline = time.monotonic() + 5
    while cache.get("n", lambda: "newer") == "old" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("n", lambda: "newer") == "new"  # fresh again: not recounted


def test_no_cache_computes_every_time_and_forget_drops_figures() -> None:
    counted = iter(range(10))
    assert [Aggregates(0).get("n", lambda: next(counted)) for _ in range(3)] == [0, 1, 2]
    cache = Aggregates(60)
    cache.get("scenario:1", lambda: 1)
    cache.forget("scenario:")
    assert cache.get("scenario:1", lambda: 2) == 2


def test_warming_computes_missing_figures_in_the_background_only_when_caching() -> None:
    done = threading.Event()
    cache = Aggregates(60)
    order: list[str] = []
    cache.warm([("m", lambda: order.append("m") or 1), ("n", lambda: order.append("n") or done.set() or 7)])
    assert done.wait(5)
    deadline = time.monotonic() + 5
    while cache.get("n", lambda: 0) != 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("n", lambda: 0) == 7 and order == ["m", "n"]
    off = Aggregates(0)
    off.warm([("n", lambda: pytest.fail("computed with caching off"))])


def test_a_warm_app_counts_the_store_wide_figures_as_it_starts(store: Store, tmp_path: Path) -> None:
    # kizuna serve's app (warm=True): the first pages after signing in find their figures counted, the
    # store-wide ones and each scenario's.
    scenario = add_from_template(store, "first-order-coupon").scenario
    settings = Settings(data_dir=tmp_path / "data", dashboard_cache_seconds=60)  # type: ignore[call-arg]
    app = create_app(store, settings=settings, warm=True)
    dashboard = app.state.dashboard
    wanted = [*dashboard.figures, f"scenario:{scenario.id}", f"scenario-results:{scenario.id}"]
    with TestClient(app, base_url="http://127.0.0.1"):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            counted = [key for key in wanted if key in dashboard.aggregates._values]
            if len(counted) == len(wanted):
                break
            time.sleep(0.05)
        assert counted == wanted
    cold = create_app(store, settings=settings)  # tests and library callers: nothing counted up front
    with TestClient(cold, base_url="http://127.0.0.1"):
        time.sleep(0.2)
        assert not cold.state.dashboard.aggregates._values


def test_a_costly_figure_is_kept_longer(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    cache = Aggregates(60)

    def costly() -> str:
        clock[0] += 10.0  # took 10 s to count
        return "counted"

    assert cache.get("results", costly) == "counted"
    expires = cache._values["results"][0]
    assert expires == pytest.approx(1010.0 + 200.0)  # 20 × 10 s, more than the 60 s setting
    cache.get("cheap", lambda: "quick")
    assert cache._values["cheap"][0] == pytest.approx(1010.0 + 60.0)
