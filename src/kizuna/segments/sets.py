"""Sets of customer ids in SQL, and the algebra that combines them.

Every condition compiles to :class:`Members`: one SELECT of a ``customer_id`` column, possibly standing for
its complement (everyone in scope but these). ``all`` becomes INTERSECT and EXCEPT, ``any`` UNION, ``not``
only flips the flag, and the complement is taken once, at the end, against the customers table. Set
operations run as one pass over each side on both SQLite and PostgreSQL (hashing or sorting), never as a
probe per customer, and never as ``NOT IN`` over a large list (which PostgreSQL runs row by row once the
list outgrows ``work_mem``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, except_, false, intersect, select, union
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from kizuna.errors import ConfigError
from kizuna.store.tables import Customer

#: The one column every member query returns.
ID = "customer_id"
#: A column or an ORM attribute standing for one.
ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]
#: A query of customer ids.
IdQuery = Select[Any]


@dataclass(frozen=True)
class Scope:
    """What a compilation looks at: the moment windows end at, and optionally only some customers."""

    now: datetime
    customer_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ConfigError(f"now={self.now!r} has no time zone: pass an aware datetime")

    @classmethod
    def of(cls, now: datetime, customer_ids: Collection[int] | None) -> Scope:
        """A scope for ``now``, restricted to ``customer_ids`` when given."""
        ids = None if customer_ids is None else tuple(sorted({int(c) for c in customer_ids}))
        return cls(now, ids)

    def since(self, days: int | None) -> datetime | None:
        """The start of a window of ``days`` ending now (None for no window)."""
        return None if days is None else self.now - timedelta(days=days)

    def restrict(self, column: ColumnLike) -> list[ColumnElement[bool]]:
        """Filters that keep ``column`` (a customer id) within the scope."""
        return [] if self.customer_ids is None else [column.in_(self.customer_ids)]

    def everyone(self) -> IdQuery:
        """Every customer in scope."""
        return select(Customer.id.label(ID)).where(*self.restrict(Customer.id))


@dataclass(frozen=True)
class Members:
    """A SELECT of customer ids; with ``negated`` the set meant is everyone in scope but these.

    ``distinct`` says whether the query already returns each id once (set operations always do; a join of
    orders and lines may not).
    """

    query: IdQuery
    negated: bool = False
    distinct: bool = True

    def invert(self) -> Members:
        """The complement (nothing is run: the flag flips)."""
        return replace(self, negated=not self.negated)


def nobody() -> Members:
    """The empty set."""
    return Members(select(Customer.id.label(ID)).where(false()))


def as_select(query: Any) -> IdQuery:
    """``query`` as a plain SELECT: set operations are wrapped in a subquery, since SQLite cannot nest a
    compound SELECT inside another one."""
    if isinstance(query, Select):
        return query
    inner = query.subquery()
    return select(inner.c[ID])


def _combine(kind: str, queries: Sequence[IdQuery]) -> IdQuery:
    if len(queries) == 1:
        return queries[0]
    parts = [as_select(q) for q in queries]
    if kind == "intersect":
        return as_select(intersect(*parts))
    if kind == "union":
        return as_select(union(*parts))
    first, *rest = parts
    return as_select(except_(first, as_select(union(*rest)) if len(rest) > 1 else rest[0]))


def all_of(parts: Sequence[Members]) -> Members:
    """Customers in every part: (∩ positives) − (∪ negated); ¬(∪ negated) when all are negated."""
    positive = [p.query for p in parts if not p.negated]
    negative = [p.query for p in parts if p.negated]
    if not positive:
        return Members(_combine("union", negative), negated=True)
    base = _combine("intersect", positive)
    if not negative:
        distinct = len(positive) > 1 or all(p.distinct for p in parts)
        return Members(base, distinct=distinct)
    return Members(_combine("except", [base, *negative]))


def any_of(parts: Sequence[Members]) -> Members:
    """Customers in at least one part: ∪ positives; ¬((∩ negated) − (∪ positives)) with negated parts."""
    positive = [p.query for p in parts if not p.negated]
    negative = [p.query for p in parts if p.negated]
    if not negative:
        distinct = len(positive) > 1 or all(p.distinct for p in parts)
        return Members(_combine("union", positive), distinct=distinct)
    return Members(_combine("except", [_combine("intersect", negative), *positive]), negated=True)


def resolved(members: Members, scope: Scope) -> IdQuery:
    """The final query: each id once, the complement taken against the customers in scope."""
    if members.negated:
        return as_select(except_(scope.everyone(), as_select(members.query)))
    if not members.distinct:
        return members.query.distinct()
    return members.query
