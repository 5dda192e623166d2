"""Set-based reads and writes for batches of thousands of rows, fast on SQLite and on PostgreSQL.

On PostgreSQL, ids travel as one array parameter (``= ANY(:ids)``) rather than an ``IN`` list: psycopg's
prepared statements would otherwise keep a plan chosen while a table was small; and new rows go in with
``COPY`` into a scratch table and ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` from it. On SQLite they go
in as multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statements. Either way the caller learns
which rows were new.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, BigInteger, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from kizuna.store.bulk import LOOKUP_CHUNK, PG_LOOKUP_CHUNK, chunked, copy_ignore


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
        return [
            r[0] for r in copy_ignore(session.connection(), table, columns, values, returning=[returning])
        ]
    statement = sqlite.insert(table).on_conflict_do_nothing().returning(table.c[returning])
    return list(session.connection().execute(statement, list(rows)).scalars())


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
