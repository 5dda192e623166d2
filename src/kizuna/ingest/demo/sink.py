"""Fast inserts of pre-rendered rows on the import's own connection.

The demo store writes tens of millions of rows, too many for per-value SQLAlchemy type processing. The
sink sends plain tuples through the driver (``executemany`` with ``ON CONFLICT DO NOTHING`` on SQLite,
COPY plus an insert that skips existing keys on PostgreSQL), so re-running adds nothing, inside the
transaction of :func:`kizuna.ingest.writer.import_run`. Values are rendered exactly as the store's column
types would store them: timestamps as UTC text (SQLite) or ``timestamptz`` literals (PostgreSQL), JSON as
text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import Connection, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from kizuna.store.bulk import copy_ignore
from kizuna.store.tables import Base

#: Rows per ``executemany`` call, to bound the driver's memory.
CHUNK = 50_000
#: SQLite page cache (KiB) while loading: index builds and unique checks touch many pages.
BULK_CACHE_KIB = 262_144


class Sink:
    """Writes tuples into named columns of a table, skipping rows whose unique key exists."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        # SQLAlchemy stores SQLite DATETIME as naive UTC text with microseconds; PostgreSQL wants an offset.
        self._suffix = ".000000+00:00" if self.postgres else ".000000"

    def stamps(self, seconds: np.ndarray) -> list[str]:
        """Epoch seconds (UTC) as the store's timestamp text."""
        text = np.datetime_as_string(np.asarray(seconds, dtype="datetime64[s]"), unit="s").tolist()
        suffix = self._suffix
        return [t.replace("T", " ") + suffix for t in text]

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (tuples in ``columns`` order) into ``table``; existing unique keys are skipped."""
        if not rows:
            return
        if self.postgres:
            # COPY into a scratch table, then one INSERT ... SELECT that skips existing keys.
            copy_ignore(self.conn, Base.metadata.tables[table], columns, rows)
            return
        marks = ", ".join(["?"] * len(columns))
        # Table and column names are the generator's own constants, never user input.
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
        for start in range(0, len(rows), CHUNK):
            self.conn.exec_driver_sql(sql, list(rows[start : start + CHUNK]))

    def ids_between(
        self,
        key: ColumnElement[str] | InstrumentedAttribute[str],
        id_column: ColumnElement[int] | InstrumentedAttribute[int],
        low: str,
        high: str,
    ) -> dict[str, int]:
        """Map each ``key`` in [``low``, ``high``] to its row's id (one range scan of the unique index)."""
        query = select(key, id_column).where(key >= low, key <= high)
        return {k: i for k, i in self.conn.execute(query)}

    @contextmanager
    def deferred_indexes(self, tables: Sequence[str], *, when: bool = True) -> Iterator[None]:
        """On SQLite (and ``when``), drop the secondary indexes of ``tables`` and rebuild them at the end.

        Building an index once over sorted data is several times faster than updating it row by row
        (random inserts into three event indexes dominate a big load otherwise). Unique constraints stay,
        so duplicates are still skipped; everything happens inside the import's transaction, so a failure
        rolls the indexes back too. PostgreSQL is left alone: dropping an index there locks out readers.
        """
        if self.postgres or not when:
            yield
            return
        names = ", ".join("?" * len(tables))
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND tbl_name IN ({names}) ORDER BY name"
        )
        indexes = self.conn.exec_driver_sql(query, tuple(tables)).all()
        previous = self.conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
        self.conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            for name, _sql in indexes:
                self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
            yield
            for _name, sql in indexes:
                self.conn.exec_driver_sql(sql)
        finally:
            self.conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")
