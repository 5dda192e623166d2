"""Opening the store: one engine per database URL, SQLite tuned for a laptop, PostgreSQL for production."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError


@dataclass
class Store:
    """An open store: the engine and a session factory bound to it."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session] = field(repr=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def session(self) -> Session:
        """A new ORM session; use it as a context manager."""
        return self.sessions()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite files get their directory created, WAL mode and foreign keys."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"database URL {url!r} is not valid: use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg2"):
            raise ConfigError(
                f"use the psycopg (3) driver for PostgreSQL: postgresql+psycopg://... (got {url!r})"
            )
        return create_engine(url, pool_pre_ping=True)
    raise ConfigError(f"unsupported database {backend!r}: kizuna runs on SQLite and PostgreSQL")


_open: dict[str, Store] = {}


def open_store(url: str | None = None, *, settings: Settings | None = None, upgrade: bool = True) -> Store:
    """Open the store at ``url`` (default: the configured one), bringing its schema up to date first.

    Stores are cached per URL for the life of the process, so calling this twice is cheap.
    """
    resolved = url or (settings or get_settings()).resolved_database_url()
    store = _open.get(resolved)
    if store is None:
        engine = create_store_engine(resolved)
        store = Store(resolved, engine, sessionmaker(engine, expire_on_commit=False))
        if upgrade:
            from kizuna.store.migrate import ensure_current

            ensure_current(engine)
        _open[resolved] = store
    return store


def close_stores() -> None:
    """Dispose of every cached store (tests and long-running processes that switch databases)."""
    for store in _open.values():
        store.dispose()
    _open.clear()
