"""Bulk writes keep PostgreSQL's planner statistics current while a table fills quickly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from kizuna.store import Store
from kizuna.store.bulk import ANALYZE_AFTER_ROWS, insert_new, keep_statistics
from kizuna.store.tables import Customer, table_of

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _rows(start: int, n: int) -> list[dict[str, object]]:
    return [
        {"external_id": f"c{i}", "attributes": {}, "created_at": NOW, "updated_at": NOW}
        for i in range(start, start + n)
    ]


def _planned_rows(store: Store) -> float:
    with store.engine.connect() as conn:
        found = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'customers'")).scalar()
        return float(found)


def test_a_table_filled_fast_is_analysed_by_the_writer(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE customers")  # statistics of an empty table, as on a new store
    assert _planned_rows(store) <= 0
    table = table_of(Customer)
    with store.session() as session, session.begin():
        insert_new(session, table, _rows(0, ANALYZE_AFTER_ROWS - 1), "id")
    assert _planned_rows(store) <= 0  # not yet worth an ANALYZE
    with store.session() as session, session.begin():
        insert_new(session, table, _rows(ANALYZE_AFTER_ROWS, 10), "id")
    assert _planned_rows(store) == pytest.approx(ANALYZE_AFTER_ROWS + 9, rel=0.05)
    # Known to be large now: a few more rows are not a fifth of it.
    with store.session() as session, session.begin():
        conn = session.connection()
        assert not keep_statistics(conn, table, ANALYZE_AFTER_ROWS // 2)
