"""Shared fixtures: store tests run on SQLite, and on PostgreSQL too when KIZUNA_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kizuna.config import get_settings
from kizuna.store import Store, close_stores, open_store
from kizuna.store.migrate import upgrade
from kizuna.store.tables import TABLES_IN_ORDER

PG_URL = os.environ.get("KIZUNA_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own data directory and no inherited KIZUNA_ settings."""
    for key in list(os.environ):
        if key.startswith("KIZUNA_") and key != "KIZUNA_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("KIZUNA_DATA_DIR", str(tmp_path / "kizuna-data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_ready() -> str:
    assert PG_URL is not None
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return PG_URL


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store on each backend under test."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("_postgres_ready")
        engine = create_engine(url)
        names = ", ".join(m.__tablename__ for m in TABLES_IN_ORDER)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
    yield open_store(url)
    close_stores()


@pytest.fixture
def db_url(store: Store) -> str:
    """The URL of the test store, for CLI tests (``--db``)."""
    return store.url
