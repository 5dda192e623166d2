"""Fast, idempotent bulk reads and writes that behave the same on SQLite and PostgreSQL.

On PostgreSQL, ids travel as one array parameter (``= ANY(:ids)``) rather than an ``IN`` list: psycopg's
prepared statements would otherwise keep a plan chosen while a table was small; and new rows go in with
``COPY`` into a scratch table and ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` from it. On SQLite they go
in as multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statements.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    FromClause,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")

#: Keys per ``IN (...)`` look-up; well under SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 900
PG_LOOKUP_CHUNK = 10_000


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def insert_ignore(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    update: Sequence[str] = (),
    conflict: Sequence[str] | None = None,
) -> None:
    """Insert ``rows``, skipping those whose unique keys already exist.

    With ``update``, existing rows get those columns overwritten instead (an upsert on the ``conflict``
    columns). Every row must have the same keys.
    """
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(table)
        if update:
            stmt = pg.on_conflict_do_update(
                index_elements=list(conflict or ()), set_={c: pg.excluded[c] for c in update}
            )
        else:
            stmt = pg.on_conflict_do_nothing()
        conn.execute(stmt, list(rows))
        return
    lite = sqlite.insert(table)
    if update:
        lite_stmt = lite.on_conflict_do_update(
            index_elements=list(conflict or ()), set_={c: lite.excluded[c] for c in update}
        )
    else:
        lite_stmt = lite.on_conflict_do_nothing()
    conn.execute(lite_stmt, list(rows))


def key_map(
    conn: Connection,
    key: QueryableAttribute[Any] | ColumnElement[Any],
    id_column: QueryableAttribute[Any] | ColumnElement[Any],
    keys: Iterable[Any],
) -> dict[Any, int]:
    """Map each of ``keys`` found in ``key`` to the row's ``id_column``; missing keys are left out.

    On PostgreSQL the keys travel as one array parameter (``= ANY(:keys)``): with an ``IN`` list of many
    parameters, psycopg's prepared statements keep a plan chosen while the table was still small, and look-ups
    inside a growing import transaction turn into table scans.
    """
    found: dict[Any, int] = {}
    if conn.dialect.name == "postgresql":
        for chunk in chunked(dict.fromkeys(keys), PG_LOOKUP_CHUNK):
            param = bindparam("keys", value=chunk, type_=postgresql.ARRAY(key.type))
            for k, row_id in conn.execute(select(key, id_column).where(key == any_(param))):
                found[k] = row_id
        return found
    for chunk in chunked(dict.fromkeys(keys), LOOKUP_CHUNK):
        for k, row_id in conn.execute(select(key, id_column).where(key.in_(chunk))):
            found[k] = row_id
    return found


def count_rows(conn: Connection, tables: Iterable[FromClause]) -> dict[str, int]:
    """Row counts per table name."""
    return {
        str(getattr(t, "name", t)): conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in tables
    }


def copy_ignore(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """PostgreSQL: COPY into a scratch table, then insert what is new; returns ``returning`` of those.

    Several times the pace of executemany, still in the import's transaction and still skipping rows whose
    unique key exists.
    """
    from psycopg import sql

    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    target = sql.Identifier(table.name)
    scratch = sql.Identifier(f"_kizuna_copy_{table.name}")
    insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
        target, names, names, scratch
    )
    if returning:
        back = sql.SQL(", ").join(sql.Identifier(c) for c in returning)
        insert = sql.SQL("{} RETURNING {}").format(insert, back)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor:
        cursor.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
            ).format(scratch, names, target)
        )
        cursor.execute(sql.SQL("TRUNCATE {}").format(scratch))
        with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(scratch, names)) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(insert)
        return cursor.fetchall() if returning else []


def is_postgres(session: Session) -> bool:
    """Whether the session works on PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def among(
    session: Session, column: InstrumentedAttribute[Any], ids: Iterable[int]
) -> Iterator[ColumnElement[bool]]:
    """Conditions ``column`` is one of ``ids``, one per chunk of ids (run a query per condition)."""
    unique = sorted(set(ids))
    if is_postgres(session):
        for chunk in chunked(unique, PG_LOOKUP_CHUNK):
            yield column == any_(
                bindparam("ids", value=chunk, type_=postgresql.ARRAY(BigInteger()), unique=True)
            )
        return
    for chunk in chunked(unique, LOOKUP_CHUNK):
        yield column.in_(chunk)


def insert_new(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], returning: str
) -> list[Any]:
    """Insert ``rows`` (all with the same keys), skipping those whose unique keys exist; the ``returning``
    column of the rows that were new. Python-side column defaults are not applied: give every column."""
    if not rows:
        return []
    if is_postgres(session):
        columns = list(rows[0])
        text = {c for c in columns if isinstance(table.c[c].type, JSON)}  # JSON travels as its text
        values = [tuple(_dumps(row[c]) if c in text else row[c] for c in columns) for row in rows]
        conn = session.connection()
        new = [r[0] for r in copy_ignore(conn, table, columns, values, returning=[returning])]
        keep_statistics(conn, table, len(new))
        return new
    statement = sqlite.insert(table).on_conflict_do_nothing().returning(table.c[returning])
    return list(session.connection().execute(statement, list(rows)).scalars())


#: Rows a process adds to a table before it looks at whether PostgreSQL's statistics are out of date.
ANALYZE_AFTER_ROWS = 20_000
#: ... and the share of the table's rows (as last analysed) those must reach for ANALYZE to run.
ANALYZE_SHARE = 0.2
_added: dict[tuple[str, str], int] = {}
_added_lock = threading.Lock()


def keep_statistics(conn: Connection, table: Table, rows: int) -> bool:
    """Keep PostgreSQL's planner statistics of ``table`` current while this process fills it quickly.

    PostgreSQL plans by statistics that autovacuum refreshes in the background: a minute late, or never where
    it is switched off. A table that grows from empty to hundreds of thousands of rows in minutes (the outbox
    and the scenario runs during a first large send) is planned as if still empty meanwhile, and a look-up by
    customer becomes a scan of every pending delivery (1.1 s a batch at 100,000 deliveries, and growing). Once
    this process has added ``ANALYZE_AFTER_ROWS`` rows and a fifth of the table's last analysed size, it
    runs ``ANALYZE`` on the table (a sample of 30,000 rows: a fraction of a second). True when it did.
    """
    if rows <= 0:
        return False
    key = (conn.engine.url.render_as_string(hide_password=True), table.name)
    with _added_lock:
        added = _added.get(key, 0) + rows
        _added[key] = added
    if added < ANALYZE_AFTER_ROWS:
        return False
    rows_known = "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = to_regclass(:name)"
    known = conn.execute(text(rows_known), {"name": table.name}).scalar()
    if added < ANALYZE_SHARE * float(known or 0):
        return False
    with _added_lock:
        _added[key] = 0
    conn.exec_driver_sql(f'ANALYZE "{table.name}"')
    return True


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
