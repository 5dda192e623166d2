"""Which columns point at a customer: the one list that merging, export and deletion all walk.

Found from the tables' foreign keys (and columns marked :data:`CUSTOMER_REFERENCE`) rather than written out by
hand, so a table added later with a ``customers.id`` foreign key is merged, exported and deleted with the rest
without anyone remembering to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, CursorResult, Executable, Table, UniqueConstraint
from sqlalchemy.orm import Session

from kizuna.store.tables import Base, Customer, table_of
from kizuna.store.types import CUSTOMER_REFERENCE


@dataclass(frozen=True)
class CustomerReference:
    """A column of ``table`` holding a customer id, and the unique keys that include it."""

    table: Table
    column: Column[int]
    unique_keys: tuple[tuple[str, ...], ...]

    @property
    def name(self) -> str:
        """The table's name."""
        return self.table.name


def customer_references() -> list[CustomerReference]:
    """Every column with a foreign key to ``customers.id``, parents before children."""
    target = table_of(Customer).c.id
    found: list[CustomerReference] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.info.get(CUSTOMER_REFERENCE) or any(fk.column is target for fk in column.foreign_keys):
                keys = tuple(
                    tuple(c.name for c in constraint.columns)
                    for constraint in table.constraints
                    if isinstance(constraint, UniqueConstraint) and column.name in constraint.columns
                ) + tuple(
                    tuple(c.name for c in index.columns)
                    for index in table.indexes
                    if index.unique and column.name in index.columns
                )
                # A table keyed by the customer (one row per customer) clashes on its primary key.
                if column.primary_key:
                    keys += (tuple(c.name for c in table.primary_key.columns),)
                found.append(CustomerReference(table, column, keys))
    return found


def affected(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in ``session`` and return how many rows it touched."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount)
