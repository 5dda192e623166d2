from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from kizuna.profiles import find_customer
from kizuna.store import Store
from kizuna.store.migrate import downgrade, upgrade
from kizuna.store.tables import Base, Customer

# SQLite's reflection cannot read an index on an expression (lower(email)); the test below checks it.
EXPRESSION_INDEX = "ignore:Skipped unsupported reflection of expression-based index"


@pytest.mark.filterwarnings(EXPRESSION_INDEX)
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_create_exactly_the_models_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.filterwarnings(EXPRESSION_INDEX)
def test_indexes_for_frequent_queries_exist(store: Store) -> None:
    inspector = inspect(store.engine)

    def indexed(table: str) -> list[list[str]]:
        return [list(ix["column_names"]) for ix in inspector.get_indexes(table)]

    assert ["email"] in indexed("customers")
    assert ["customer_id", "occurred_at"] in indexed("events")
    assert ["product_id"] in indexed("order_lines")


def test_customers_are_found_by_email_whatever_its_case_through_an_index(store: Store) -> None:
    with store.session() as session:
        session.add(Customer(external_id="c1", email="Hanako.Sato@Example.JP"))
        session.commit()
        assert find_customer(session, "hanako.sato@example.jp").external_id == "c1"
        query = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
        plan = " ".join(
            str(row[-1])
            for row in session.execute(text(query + "SELECT id FROM customers WHERE lower(email) = 'x'"))
        )
    assert "ix_customers_email_lower" in plan


def test_downgrade_to_base_and_up_again(store: Store) -> None:
    downgrade(store.engine, "base")
    assert "customers" not in inspect(store.engine).get_table_names()
    upgrade(store.engine)
    assert "customers" in inspect(store.engine).get_table_names()
