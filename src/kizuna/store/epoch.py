"""Moments as whole microseconds since 1970-01-01 UTC, in SQL and in Python, the same on both stores.

Reading half a million timestamps as ``datetime`` objects costs seconds of interpreter time; as numbers they
cost little, and whole microseconds keep comparisons exact (a float of days or seconds would not).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kizuna.store.bulk import is_postgres

MICROS_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_micros(session: Session, column: Any) -> ColumnElement[int]:
    """SQL: whole microseconds since 1970-01-01 UTC of a UTC timestamp column, exactly.

    PostgreSQL's ``extract(epoch ...)`` is exact (numeric); SQLite keeps the time as ISO text
    (``YYYY-MM-DD HH:MM:SS.ffffff``): its seconds from ``strftime('%s')`` plus the six digits of the fraction.
    """
    if is_postgres(session):
        return cast(func.extract("epoch", column) * 1_000_000, BigInteger)
    seconds = cast(func.strftime("%s", column), Integer)
    return seconds * 1_000_000 + cast(func.substr(column, 21, 6), Integer)


def epoch_days(session: Session, column: Any) -> ColumnElement[int]:
    """SQL: the whole UTC days since 1970-01-01 of a UTC timestamp column (times after 1970)."""
    return epoch_micros(session, column) // MICROS_PER_DAY


def micros(moment: datetime) -> int:
    """``moment`` (aware) as whole microseconds since 1970-01-01 UTC, as :func:`epoch_micros` gives it."""
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """Microseconds since 1970-01-01 UTC as an aware datetime (the inverse of :func:`micros`)."""
    return _EPOCH + timedelta(microseconds=value)
