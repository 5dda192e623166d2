from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from kizuna.store import Store
from kizuna.store.migrate import downgrade, upgrade
from kizuna.store.tables import Base


def test_migrations_create_exactly_the_models_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_indexes_for_frequent_queries_exist(store: Store) -> None:
    inspector = inspect(store.engine)

    def indexed(table: str) -> list[list[str]]:
        return [list(ix["column_names"]) for ix in inspector.get_indexes(table)]

    assert ["email"] in indexed("customers")
    assert ["customer_id", "occurred_at"] in indexed("events")
    assert ["product_id"] in indexed("order_lines")


def test_downgrade_to_base_and_up_again(store: Store) -> None:
    downgrade(store.engine, "base")
    assert "customers" not in inspect(store.engine).get_table_names()
    upgrade(store.engine)
    assert "customers" in inspect(store.engine).get_table_names()
