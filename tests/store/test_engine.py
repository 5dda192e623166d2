from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from kizuna.errors import ConfigError
from kizuna.store import Store, open_store
from kizuna.store.engine import create_store_engine
from kizuna.store.migrate import current_revision, head_revision


def test_default_store_is_sqlite_file_created_on_first_use(tmp_path: Path) -> None:
    store = open_store()
    expected = tmp_path / "kizuna-data" / "kizuna.db"
    assert store.dialect == "sqlite"
    assert expected.exists()
    assert current_revision(store.engine) == head_revision(store.engine)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x' / 'y.db'}")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_every_store_is_migrated_to_head(store: Store) -> None:
    assert current_revision(store.engine) == head_revision(store.engine)


@pytest.mark.parametrize("url", ["mysql://root@localhost/x", "not a url", "postgresql+asyncpg://h/db"])
def test_unsupported_urls_are_refused_with_advice(url: str) -> None:
    with pytest.raises(ConfigError, match=r"(?i)sqlite|psycopg|valid"):
        create_store_engine(url)
