"""Column types shared by every table, behaving the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

#: Primary keys: 64-bit on PostgreSQL, SQLite's rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

#: Free-form attributes: JSONB on PostgreSQL (indexable), JSON text on SQLite.
JSONDict = JSON().with_variant(JSONB(), "postgresql")

#: Money: exact NUMERIC in the store, float in Python.
Money = Numeric(14, 2, asdecimal=False)


#: ``Column.info`` key marking a customer id column without a foreign key (a large table written in bulk,
#: where checking each row's key would cost more than the write): :mod:`kizuna.store.references` lists it,
#: so it is merged, exported and deleted with the rest all the same.
CUSTOMER_REFERENCE = "customer_reference"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp.

    Values are stored in UTC (``timestamptz`` on PostgreSQL, ISO text on SQLite) and come back as aware
    ``datetime`` objects in UTC. Naive datetimes are refused: the caller decides which timezone they meant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give it a timezone before storing it")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
