"""Pieces every CLI command shares: the ``--db`` option, the console, and error handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from kizuna.store.engine import Store, open_store

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)


def db_option(func: F) -> F:
    """Add ``--db URL`` (default: ``KIZUNA_DATABASE_URL``, else the SQLite file in the data directory)."""
    return click.option(
        "--db",
        "db",
        metavar="URL",
        default=None,
        help="Database URL (sqlite:///PATH or postgresql+psycopg://USER@HOST/DB). "
        "Default: KIZUNA_DATABASE_URL, else a SQLite file in KIZUNA_DATA_DIR.",
    )(func)


def store_for(db: str | None) -> Store:
    """Open (and if needed, upgrade) the store named by ``--db``."""
    return open_store(db)
