"""``kizuna db``: the store's schema and contents."""

from __future__ import annotations

import click
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.store.bulk import count_rows
from kizuna.store.engine import open_store
from kizuna.store.migrate import current_revision, head_revision
from kizuna.store.tables import TABLES_IN_ORDER, table_of


@click.group()
def db() -> None:
    """Create, upgrade and inspect the store."""


@db.command()
@db_option
def upgrade(db: str | None) -> None:
    """Bring the store's schema up to date (every command also does this by itself)."""
    store = open_store(db)
    console.print(
        f"store {store.engine.url.render_as_string()} is at revision {current_revision(store.engine)}"
    )


@db.command()
@db_option
def status(db: str | None) -> None:
    """Show the store's URL, schema revision and row counts."""
    store = store_for(db)
    console.print(f"store:    {store.engine.url.render_as_string()}")
    console.print(f"revision: {current_revision(store.engine)} (newest {head_revision(store.engine)})")
    table = Table("table", "rows", title="contents")
    with store.engine.connect() as conn:
        for name, n in count_rows(conn, [table_of(m) for m in TABLES_IN_ORDER]).items():
            table.add_row(name, f"{n:,}")
    console.print(table)
