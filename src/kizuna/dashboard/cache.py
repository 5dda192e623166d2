"""Store-wide figures computed once and reused for a while, so that pages stay fast on a large store.

Counting every customer, consent or delivery costs a scan of a large table; the dashboard needs those figures
often but not to the second. A figure is computed on first use (the one slow request) and kept; once older
than ``Settings.dashboard_cache_seconds`` it is still served while one background thread counts it again, so
no later request waits for a count. Requests asking for a figure that is being computed for the first time
wait for that result instead of counting too.

A figure is also kept for at least :data:`COST_FACTOR` times as long as it took to count, so that recounting
costs the server no more than a twentieth of a core per figure however large the store grows (a scenario's
results take seconds at a million customers: recounting those every minute would keep a core busy and slow
every page served beside them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

#: A figure is kept at least this many times as long as it took to count.
COST_FACTOR = 20.0


class Aggregates:
    """Figures by key, each recomputed at most once per ``seconds`` (0: computed on every request)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[str, tuple[float, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._refreshing: set[str] = set()
        self._guard = threading.Lock()

    def get(self, key: str, compute: Callable[[], T]) -> T:
        """The figure under ``key``: computed by ``compute`` when missing, refreshed in the background when
        older than the limit (the older value answers meanwhile)."""
        if self.seconds <= 0:
            return compute()
        found = self._values.get(key)
        if found is not None:
            if found[0] <= time.monotonic():
                self._refresh_later(key, compute)
            return found[1]  # type: ignore[no-any-return]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            found = self._values.get(key)
            if found is not None:
                return found[1]  # type: ignore[no-any-return]
            value = self._count(key, compute)
            return value

    def _count(self, key: str, compute: Callable[[], T]) -> T:
        started = time.monotonic()
        value = compute()
        done = time.monotonic()
        self._values[key] = (done + max(self.seconds, COST_FACTOR * (done - started)), value)
        return value

    def warm(
        self,
        figures: list[tuple[str, Callable[[], Any]]],
        more: Sequence[Callable[[], list[tuple[str, Callable[[], Any]]]]] = (),
    ) -> None:
        """Compute the figures not there yet, one after the other in one background thread (the first
        listed first), when caching is on; then those each of ``more`` lists when the thread gets to it
        (figures found by a query: the scenarios'). A page asking for one meanwhile waits for its count."""
        missing = [(key, compute) for key, compute in figures if key not in self._values]
        if self.seconds > 0 and (missing or more):
            threading.Thread(
                target=self._warm_all, args=(missing, list(more)), name="dashboard-figures", daemon=True
            ).start()

    def _warm_all(
        self,
        figures: list[tuple[str, Callable[[], Any]]],
        more: list[Callable[[], list[tuple[str, Callable[[], Any]]]]],
    ) -> None:
        self._warm(figures)
        for listing in more:
            try:
                found = listing()
            except Exception:  # warming is best effort: the page counts for itself
                log.exception("listing dashboard figures to count failed")
                continue
            self._warm([(key, compute) for key, compute in found if key not in self._values])

    def _warm(self, figures: list[tuple[str, Callable[[], Any]]]) -> None:
        for key, compute in figures:
            try:
                self.get(key, compute)  # under the figure's lock
            except Exception:  # the page that asks next counts again
                log.exception("counting dashboard figure %s failed", key)

    def _refresh_later(self, key: str, compute: Callable[[], Any]) -> None:
        with self._guard:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def refresh() -> None:
            try:
                self._count(key, compute)
            except Exception:  # the old value keeps answering; the next request tries again
                log.exception("recounting dashboard figure %s failed", key)
            finally:
                with self._guard:
                    self._refreshing.discard(key)

        threading.Thread(target=refresh, name=f"dashboard-figure-{key}", daemon=True).start()

    def forget(self, prefix: str = "") -> None:
        """Drop the figures whose key starts with ``prefix`` (all by default), after a change."""
        for key in [k for k in self._values if k.startswith(prefix)]:
            self._values.pop(key, None)
