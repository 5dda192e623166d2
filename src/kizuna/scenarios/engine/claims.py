"""Cursors and claims: how workers share the engine's work without doing any of it twice.

- A **cursor** (``engine_cursors``) says how far a reader has read a log (events, segment entries) or when a
  timer last fired. Its row is locked for the reader's transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), so one worker at a time reads each log; the others skip it and get on with due runs.
- **Due runs** are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: several workers take disjoint
  batches. SQLite has one writer at a time; a claim there starts by taking the write lock, so two processes
  never read the same due runs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kizuna.scenarios.engine.state import RUN_COLUMNS, WAITING, RunState
from kizuna.store.automation import EngineCursor, ScenarioRun
from kizuna.store.bulk import insert_ignore
from kizuna.store.tables import table_of

#: The cursor row whose lock serialises claims on SQLite.
_SQLITE_CLAIMS = "claims"


def _write_lock(session: Session, name: str) -> None:
    """SQLite: take the database's write lock now, before reading (a no-op update does)."""
    session.execute(
        update(EngineCursor).where(EngineCursor.name == name).values(position=EngineCursor.position)
    )


def take_cursor(session: Session, name: str, now: datetime) -> int | None:
    """Lock cursor ``name`` for this transaction and return its position; ``None`` if another worker holds it

    The row is created at 0 the first time.
    """
    insert_ignore(
        session.connection(), table_of(EngineCursor), [{"name": name, "position": 0, "updated_at": now}]
    )
    query = select(EngineCursor.position).where(EngineCursor.name == name)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    else:
        _write_lock(session, name)
    return session.execute(query).scalar_one_or_none()


def move_cursor(session: Session, name: str, position: int, now: datetime) -> None:
    """Set cursor ``name`` (locked by :func:`take_cursor` in this transaction) to ``position``."""
    session.execute(
        update(EngineCursor).where(EngineCursor.name == name).values(position=position, updated_at=now)
    )


def safe_position(position: int, rows: Sequence[tuple[int, datetime]], now: datetime, lag: timedelta) -> int:
    """How far the cursor may move over ``rows`` (id, time written), read in id order after ``position``.

    On PostgreSQL ids are handed out before commit, so a transaction that took id 41 may commit after the one
    that took 42: a missing id may still appear. The cursor stops before such a gap until the row after it is
    ``lag`` old (rolled-back transactions leave gaps that never fill); rows after the gap are acted on anyway
    and read again next time, which is harmless because acting on them is idempotent.
    """
    expected = position + 1
    for row_id, written in rows:
        if row_id != expected and written > now - lag:
            break
        position, expected = row_id, row_id + 1
    return position


def claim_due(session: Session, scenario_ids: Collection[int], now: datetime, limit: int) -> list[RunState]:
    """Lock and return up to ``limit`` waiting runs of active scenarios whose time has come, oldest first."""
    if not scenario_ids:
        return []
    query = (
        select(*RUN_COLUMNS)
        .where(
            ScenarioRun.status == WAITING,
            ScenarioRun.wake_at <= now,
            ScenarioRun.scenario_id.in_(sorted(scenario_ids)),
        )
        .order_by(ScenarioRun.wake_at, ScenarioRun.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    else:
        insert_ignore(
            session.connection(),
            table_of(EngineCursor),
            [{"name": _SQLITE_CLAIMS, "position": 0, "updated_at": now}],
        )
        _write_lock(session, _SQLITE_CLAIMS)
    return [RunState(*row) for row in session.execute(query)]
