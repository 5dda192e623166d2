"""The worker: one pass reads intake, fires timers and moves due runs; ``run_forever`` repeats it.

Each unit of work is its own transaction — a batch of events with the cursor that read them, a timer with
its cursor, a batch of due runs with the deliveries they write — so a worker killed at any moment loses
nothing that was committed and leaves nothing half done: the next worker reads on from the cursors and claims
the runs that are still due. Several workers can run at once on PostgreSQL (see :mod:`.claims`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

# A module import: attribution reads the engine's cursors, so the two modules import each other.
from kizuna.channels import attribution
from kizuna.config import Settings, get_settings
from kizuna.scenarios.definition import DateTrigger, ScheduleTrigger
from kizuna.scenarios.engine.claims import claim_due
from kizuna.scenarios.engine.intake import IntakeResult, read_events, read_segment_entries
from kizuna.scenarios.engine.state import LoadedScenario, RunReport, load_active, save_runs
from kizuna.scenarios.engine.stepping import advance
from kizuna.scenarios.engine.timers import fire_schedule, scan_dates
from kizuna.scenarios.engine.upkeep import enter_existing, rebuild_stale, takes_existing
from kizuna.segments.membership import refresh
from kizuna.store.engine import Store
from kizuna.store.types import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")
Sessions = Callable[[], Session]

#: Attempts at a unit of work that PostgreSQL aborted (a deadlock between workers, a lost connection).
RETRIES = 3


def _retrying(work: Callable[[], T]) -> T:
    for attempt in range(1, RETRIES + 1):
        try:
            return work()
        except OperationalError:
            if attempt == RETRIES:
                raise
            log.warning("scenario engine: transaction aborted, trying again", exc_info=True)
    raise AssertionError("unreachable")


class _Clock:
    """``now`` fixed by the caller (tests, dry runs), or the real time read afresh for each unit of work."""

    def __init__(self, fixed: datetime | None) -> None:
        self.fixed = fixed

    def __call__(self) -> datetime:
        return self.fixed or utcnow()


def _transaction(sessions: Sessions, work: Callable[[Session], T]) -> T:
    def once() -> T:
        with sessions() as session, session.begin():
            return work(session)

    return _retrying(once)


def run_once(
    store: Store,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    settings: Settings | None = None,
    max_due_batches: int | None = None,
) -> RunReport:
    """One pass: due runs, intake (events, segment entries), timers (dates, schedules), due runs again, then
    attribution of new orders to deliveries (not in a dry run).

    ``now`` fixes the clock (default: the real time, read for each transaction). ``dry_run`` does it all in
    one transaction that is rolled back, and reports what would have happened (segment membership is not
    refreshed in a dry run). ``max_due_batches`` bounds the due-run batches (default: all that are due).
    """
    settings = settings or get_settings()
    if not dry_run:
        report = _pass(store, store.sessions, _Clock(now), settings, max_due_batches, refresh=True)
        _attribute(store.sessions, _Clock(now), settings, report)
        return report
    with _dry_sessions(store) as sessions:
        report = _pass(store, sessions, _Clock(now), settings, max_due_batches, refresh=False)
    report.dry_run = True
    return report


@contextmanager
def _dry_sessions(store: Store) -> Iterator[Sessions]:
    with store.engine.connect() as conn:
        outer = conn.begin()
        try:
            yield sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        finally:
            outer.rollback()


def _pass(
    store: Store,
    sessions: Sessions,
    clock: _Clock,
    settings: Settings,
    max_due_batches: int | None,
    *,
    refresh: bool,
) -> RunReport:
    report = RunReport()
    with sessions() as session:
        scenarios = load_active(session)
    if not scenarios:
        return report
    batch = settings.engine_batch_size
    lag = timedelta(seconds=settings.engine_intake_lag_seconds)
    customers: set[int] = set()
    # Runs already due move first, so a run that has just ended does not block a re-entry below.
    _due(sessions, scenarios, clock, batch, max_due_batches, report)

    def events(session: Session) -> IntakeResult:
        return read_events(session, scenarios, now=clock(), batch=batch, lag=lag, report=report)

    while True:
        result = _transaction(sessions, events)
        customers |= result.customer_ids
        if not result.more:
            break
    if refresh:
        every = timedelta(minutes=settings.engine_segment_rebuild_minutes)
        definitions = [s.definition for s in scenarios.values()]
        rebuild_stale(store, sessions, definitions, now=clock(), every=every)
    if refresh and customers:
        _refresh_segments(store, customers, clock())

    def entries(session: Session) -> IntakeResult:
        return read_segment_entries(session, scenarios, now=clock(), batch=batch * 5, lag=lag, report=report)

    while _transaction(sessions, entries).more:
        pass
    for scenario in scenarios.values():
        if takes_existing(scenario):
            _transaction(sessions, partial(_existing, scenario, clock, report))
    _timers(sessions, scenarios, clock, report)
    _due(sessions, scenarios, clock, batch, max_due_batches, report)
    return report


def _attribute(sessions: Sessions, clock: _Clock, settings: Settings, report: RunReport) -> None:
    """Attribute new orders to the deliveries that caused them (``kizuna.channels.attribution``)."""
    found = attribution.AttributionReport()

    def batch(session: Session) -> bool:
        return attribution.attribute_next(session, now=clock(), settings=settings, report=found)[1]

    while _transaction(sessions, batch):
        pass
    report.orders_read += found.orders_read
    report.redeemed += found.redeemed
    report.attributed += found.attributed


def _existing(scenario: LoadedScenario, clock: _Clock, report: RunReport, session: Session) -> None:
    part = RunReport()
    enter_existing(session, scenario, now=clock(), report=part)
    report.add(part)


def _refresh_segments(store: Store, customer_ids: set[int], now: datetime) -> None:
    """Bring the segment membership of customers with new events up to date (new stays become entries)."""
    refresh(store, sorted(customer_ids), now=now)


def _timers(
    sessions: Sessions, scenarios: dict[int, LoadedScenario], clock: _Clock, report: RunReport
) -> None:
    for scenario in scenarios.values():
        trigger = scenario.definition.trigger
        if isinstance(trigger, DateTrigger | ScheduleTrigger):
            timer = scan_dates if isinstance(trigger, DateTrigger) else fire_schedule
            _transaction(sessions, partial(_timer, timer, scenario, clock, report))


def _timer(
    timer: Callable[..., None], scenario: LoadedScenario, clock: _Clock, report: RunReport, session: Session
) -> None:
    part = RunReport()
    timer(session, scenario, now=clock(), report=part)
    report.add(part)


def _due(
    sessions: Sessions,
    scenarios: dict[int, LoadedScenario],
    clock: _Clock,
    batch: int,
    max_batches: int | None,
    report: RunReport,
) -> None:
    done = 0

    def one(session: Session) -> tuple[int, RunReport]:
        now = clock()
        runs = claim_due(session, scenarios.keys(), now, batch)
        part = RunReport()
        advance(session, scenarios, runs, now=now, report=part)
        save_runs(session, runs, now)
        return len(runs), part

    while max_batches is None or done < max_batches:
        claimed, part = _transaction(sessions, one)
        report.add(part)  # counted once the batch is committed
        done += 1
        if claimed < batch:
            break


def run_forever(
    store: Store,
    *,
    poll_interval: float | None = None,
    stop: threading.Event | None = None,
    now: Callable[[], datetime] | None = None,
    on_pass: Callable[[RunReport], None] | None = None,
    settings: Settings | None = None,
) -> RunReport:
    """Run passes until ``stop`` is set; sleep ``poll_interval`` seconds only when a pass found nothing to do.

    A busy pass moves at most ten batches of due runs before reading intake again, so new events are acted
    on within about a second even while a large segment is moving. Errors of the database (a restart, a lost
    connection) are logged and the pass is tried again after the interval. Returns the total.
    """
    settings = settings or get_settings()
    interval = settings.engine_poll_interval if poll_interval is None else poll_interval
    stop = stop or threading.Event()
    total = RunReport()
    while not stop.is_set():
        try:
            report = run_once(store, now=now() if now else None, settings=settings, max_due_batches=10)
        except OperationalError:
            log.exception("scenario engine: pass failed; trying again")
            stop.wait(max(interval, 1.0))
            continue
        total.add(report)
        if on_pass is not None:
            on_pass(report)
        if not report.busy():
            stop.wait(interval)
        else:
            time.sleep(0)
    return total
