"""Helpers shared by the dataset adapter tests: fixture files, row counts, the real data when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from kizuna.cli import main
from kizuna.store import Store
from kizuna.store.tables import TABLES_IN_ORDER

# Read at import: the autouse settings fixture clears KIZUNA_* variables before each test runs.
SHARED_DATA = Path(
    os.environ.get("KIZUNA_SHARED_DATA", Path(__file__).resolve().parents[3] / ".." / "shared" / "data")
)


def write(path: Path, text: str, *, newline: str = "\n", encoding: str = "utf-8") -> Path:
    """Write ``text`` (its lines joined by ``newline``) to ``path``."""
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def counts(store: Store) -> dict[str, int]:
    """Rows per table, leaving out empty tables."""
    found = {}
    with store.session() as session:
        for model in TABLES_IN_ORDER:
            n = session.scalar(select(func.count()).select_from(model)) or 0
            if n:
                found[model.__tablename__] = n
    return found


def real_file(*parts: str) -> Path:
    """A file of the shared public data, or skip the test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (set KIZUNA_SHARED_DATA)")
    return path


def cli_import(name: str, path: Path, db_url: str) -> Result:
    """``kizuna import NAME PATH --db URL``."""
    return CliRunner().invoke(main, ["import", name, str(path), "--db", db_url])
