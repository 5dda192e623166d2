"""Segment conditions compiled to SQL that runs on SQLite and PostgreSQL with the same result.

A condition becomes one SELECT of customer ids (column ``customer_id``), built from set-based pieces: each
kind of condition reads its own table through an index and groups by customer where it counts (see
``purchases``, ``behaviour`` and ``profile``), and ``all``/``any``/``not`` combine the pieces with INTERSECT,
UNION and EXCEPT (see ``sets``). ``segment: NAME`` inlines the named segment's stored condition, found with
``resolve``; a cycle or an unknown name is a :class:`~kizuna.errors.ConfigError` naming the chain.

``now`` is the moment the segment is evaluated at: windows (``within_days``) end there, ages in days are
counted to it. Data dated after ``now`` is not hidden: it is meant to be the present.

    >>> query = customer_ids_query(parse_condition({"consent": "email"}), now=now, resolve=registry.get)
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.orm import Session

from kizuna.errors import ConfigError, NotFoundError
from kizuna.segments.behaviour import event_members, viewed_not_bought_members
from kizuna.segments.conditions import (
    AllCondition,
    AnyCondition,
    AttributeCondition,
    BoughtCondition,
    Condition,
    ConsentCondition,
    EventCondition,
    MeasureCondition,
    NotCondition,
    SegmentCondition,
    SubscriptionCondition,
    TrialOnlyCondition,
    ValueCondition,
    ViewedNotBoughtCondition,
)
from kizuna.segments.profile import attribute_members, consent_members
from kizuna.segments.purchases import (
    bought_members,
    measure_members,
    subscription_members,
    trial_only_members,
)
from kizuna.segments.sets import Members, Scope, all_of, any_of, resolved
from kizuna.segments.values import value_members
from kizuna.store.bulk import LOOKUP_CHUNK, chunked

#: Gives the stored condition of a segment by name; raises KeyError (or NotFoundError) for unknown names.
Resolver = Callable[[str], Condition]


class _Compiler:
    """One compilation: the scope, the resolver, and the chain of segments being inlined."""

    def __init__(self, scope: Scope, resolve: Resolver, name: str | None) -> None:
        self.scope = scope
        self.resolve = resolve
        self.chain: list[str] = [] if name is None else [name]

    def place(self, path: str) -> str:
        where = f"segment {self.chain[-1]!r}" if self.chain else "condition"
        return f"{where}, {path}" if path else where

    def members(self, condition: Condition, path: str) -> Members:
        if isinstance(condition, AllCondition):
            return all_of([self.members(c, _join(path, "all", k)) for k, c in enumerate(condition.all)])
        if isinstance(condition, AnyCondition):
            return any_of([self.members(c, _join(path, "any", k)) for k, c in enumerate(condition.any)])
        if isinstance(condition, NotCondition):
            return self.members(condition.not_, _join(path, "not")).invert()
        if isinstance(condition, SegmentCondition):
            return self.inline(condition.segment)
        return self.leaf(condition, path)

    def leaf(self, condition: Condition, path: str) -> Members:
        scope = self.scope
        if isinstance(condition, AttributeCondition):
            return attribute_members(condition, scope, self.place(_join(path, "attribute")))
        if isinstance(condition, MeasureCondition):
            return measure_members(condition, scope, self.place(_join(path, "measure")))
        if isinstance(condition, ValueCondition):
            return value_members(condition, scope, self.place(_join(path, "value")))
        if isinstance(condition, BoughtCondition):
            return bought_members(condition, scope)
        if isinstance(condition, ViewedNotBoughtCondition):
            return viewed_not_bought_members(condition, scope)
        if isinstance(condition, EventCondition):
            return event_members(condition, scope, self.place(_join(path, "event")))
        if isinstance(condition, SubscriptionCondition):
            return subscription_members(condition, scope)
        if isinstance(condition, TrialOnlyCondition):
            return trial_only_members(condition, scope)
        if isinstance(condition, ConsentCondition):
            return consent_members(condition, scope)
        raise ConfigError(f"{self.place(path)}: no compiler for {type(condition).__name__}")

    def inline(self, name: str) -> Members:
        route = " → ".join([*self.chain, name])
        if name in self.chain:
            raise ConfigError(f"segments refer to each other in a cycle: {route}")
        try:
            condition = self.resolve(name)
        except (KeyError, NotFoundError):
            raise ConfigError(f"unknown segment {name!r} (referred to by {route})") from None
        self.chain.append(name)
        try:
            return self.members(condition, "")
        finally:
            self.chain.pop()


def _join(path: str, *parts: object) -> str:
    return ".".join([path, *map(str, parts)] if path else map(str, parts))


def compile_condition(
    condition: Condition,
    *,
    now: datetime,
    resolve: Resolver,
    customer_ids: Collection[int] | None = None,
    name: str | None = None,
) -> Members:
    """The condition as a set of customer ids (possibly as its complement, see :class:`Members`).

    ``name`` is the segment being compiled, so that a reference back to it is reported as a cycle.

    Raises:
        ConfigError: a value does not suit what it is compared with, a segment reference is unknown or
            cyclic; the message names the segment and the place in the condition.
    """
    return _Compiler(Scope.of(now, customer_ids), resolve, name).members(condition, "")


def customer_ids_query(
    condition: Condition,
    *,
    now: datetime,
    resolve: Resolver,
    customer_ids: Collection[int] | None = None,
    name: str | None = None,
) -> Select[Any]:
    """A SELECT of the ids (column ``customer_id``, each once) of the customers matching ``condition`` at
    ``now``, only among ``customer_ids`` when given (keep that to a few thousand; :func:`matching_ids`
    splits longer lists)."""
    scope = Scope.of(now, customer_ids)
    return resolved(_Compiler(scope, resolve, name).members(condition, ""), scope)


def matching_ids(
    conn: Connection | Session,
    condition: Condition,
    *,
    now: datetime,
    resolve: Resolver,
    customer_ids: Collection[int] | None = None,
    name: str | None = None,
) -> set[int]:
    """The ids of the customers matching ``condition`` at ``now`` (among ``customer_ids`` when given)."""
    if customer_ids is None:
        query = customer_ids_query(condition, now=now, resolve=resolve, name=name)
        return {int(i) for i in conn.execute(query).scalars()}
    found: set[int] = set()
    for chunk in chunked(sorted(set(customer_ids)), LOOKUP_CHUNK):
        query = customer_ids_query(condition, now=now, resolve=resolve, customer_ids=chunk, name=name)
        found.update(int(i) for i in conn.execute(query).scalars())
    return found
