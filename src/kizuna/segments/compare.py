"""Comparisons (``eq``, ``gte``, ``in``, ``contains``, ``exists`` ...) as SQL predicates.

One function per kind of value: a customer column of a known type, a key of a JSON column (whose type is
only known row by row), a number computed in SQL (a count, a sum), and an age in whole days since a moment.
Each checks that the values given suit what is compared and raises :class:`~kizuna.errors.ConfigError`
naming ``place`` otherwise. Several operators in one comparison must all hold.

JSON values compare by the type of the value given: numbers with JSON numbers (so ``10 > 9``), strings with
JSON strings (code-point order on both stores), booleans with JSON booleans; a value of another type never
matches. ``ne`` and ``not_in`` need a value to be present: customers without one are not "not equal".
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from kizuna.errors import ConfigError
from kizuna.moments import parse_moment
from kizuna.segments.sets import ColumnLike
from kizuna.segments.sqlfuncs import (
    binary_text,
    json_bool,
    json_field,
    json_number,
    json_present,
    json_text,
    text_position,
)

ColumnKind = Literal["text", "number", "date", "datetime"]
Ops = Mapping[str, Any]

_ORDERING = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
#: Largest number of days an age may be compared with (about 270 years).
MAX_DAYS = 100_000


def is_number(value: Any) -> bool:
    """Whether ``value`` is an int or float (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _listed(ops: Ops, name: str) -> list[Any]:
    return list(ops[name]) if name in ops else []


# -- customer columns -----------------------------------------------------------------------------------
def _coerce(value: Any, kind: ColumnKind, place: str) -> Any:
    if kind == "text":
        if not isinstance(value, str):
            raise ConfigError(f"{place}: is text; compare it with a string (quote it), got {value!r}")
        return value
    if kind == "number":
        if not is_number(value):
            raise ConfigError(f"{place}: is a number; compare it with a number, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{place}: is a {kind}; give it as ISO text ('2024-03-01'), got {value!r}")
    try:
        return date.fromisoformat(value) if kind == "date" else parse_moment(value)
    except ValueError:
        raise ConfigError(f"{place}: expected an ISO {kind} such as '2024-03-01', got {value!r}") from None


def column_test(column: ColumnLike, kind: ColumnKind, ops: Ops, place: str) -> ColumnElement[bool]:
    """``ops`` applied to a column of ``kind``; NULL never matches but ``exists: false``."""
    tests: list[ColumnElement[bool]] = []
    for name, given in ops.items():
        if name == "exists":
            tests.append(column.is_not(None) if given else column.is_(None))
        elif name == "contains":
            if kind != "text":
                raise ConfigError(f"{place}: contains needs a text value, this one is a {kind}")
            tests.append(text_position(column, _coerce(given, "text", place)) > 0)
        elif name in ("in", "not_in"):
            values = [_coerce(v, kind, place) for v in given]
            tests.append(column.in_(values) if name == "in" else column.not_in(values))
        else:
            value = _coerce(given, kind, place)
            target = binary_text(column) if kind == "text" and name in _ORDERING else column
            tests.append(_binary(name, target, value))
    return and_(*tests)


def _binary(name: str, left: ColumnLike, value: Any) -> ColumnElement[bool]:
    if name == "eq":
        return left == value  # type: ignore[no-any-return]
    if name == "ne":
        return left != value  # type: ignore[no-any-return]
    return _ORDERING[name](left, value)  # type: ignore[no-any-return]


# -- keys of a JSON column ------------------------------------------------------------------------------
def _typed_equal(column: ColumnLike, key: str, values: Sequence[Any]) -> ColumnElement[bool]:
    """The key's value equals one of ``values``, each compared within its own JSON type."""
    numbers = [v for v in values if is_number(v)]
    texts = [v for v in values if isinstance(v, str)]
    flags = [v for v in values if isinstance(v, bool)]
    tests: list[ColumnElement[bool]] = []
    if numbers:
        tests.append(json_field(json_number, column, key).in_(numbers))
    if texts:
        tests.append(json_field(json_text, column, key).in_(texts))
    tests.extend(json_field(json_bool, column, key) == flag for flag in dict.fromkeys(flags))
    if not tests:
        return false()
    # A value of another type is NULL here, and "NULL IN (...)" is NULL: coalesce makes it plainly false.
    return or_(*(and_(t.is_not(None), t) for t in tests))


def json_equals(column: ColumnLike, key: str, value: Any) -> ColumnElement[bool]:
    """Whether top-level ``key`` of JSON ``column`` equals ``value``, compared within its JSON type."""
    return _typed_equal(column, key, [value])


def json_test(column: ColumnLike, key: str, ops: Ops, place: str) -> ColumnElement[bool]:
    """``ops`` applied to top-level ``key`` of JSON ``column``, each value compared within its type."""
    tests: list[ColumnElement[bool]] = []
    present = json_present(column, key)
    for name, given in ops.items():
        if name == "exists":
            tests.append(present if given else not_(present))
        elif name in ("eq", "in"):
            tests.append(_typed_equal(column, key, [given] if name == "eq" else given))
        elif name in ("ne", "not_in"):
            tests.append(and_(present, not_(_typed_equal(column, key, [given] if name == "ne" else given))))
        elif name == "contains":
            tests.append(text_position(json_field(json_text, column, key), given) > 0)
        elif is_number(given):
            tests.append(_ORDERING[name](json_field(json_number, column, key), given))
        elif isinstance(given, str):
            tests.append(_ORDERING[name](binary_text(json_field(json_text, column, key)), given))
        else:
            raise ConfigError(f"{place}: {name} needs a number or a string, got {given!r}")
    return and_(*tests)


# -- numbers computed in SQL ----------------------------------------------------------------------------
def _numbers_only(ops: Ops, place: str, allowed: tuple[str, ...]) -> None:
    for name, given in ops.items():
        if name not in allowed:
            raise ConfigError(f"{place}: {name} does not apply here; use {', '.join(allowed)}")
        for value in given if name in ("in", "not_in") else [given]:
            if not is_number(value):
                raise ConfigError(f"{place}: {name} needs a number, got {value!r}")


NUMBER_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in")


def number_test(expr: ColumnElement[Any], ops: Ops, place: str) -> ColumnElement[bool]:
    """``ops`` (numbers only, no ``contains`` or ``exists``) applied to a numeric SQL expression."""
    _numbers_only(ops, place, NUMBER_OPERATORS)
    tests: list[ColumnElement[bool]] = []
    for name, given in ops.items():
        if name in ("in", "not_in"):
            tests.append(expr.in_(given) if name == "in" else expr.not_in(given))
        else:
            tests.append(_binary(name, expr, given))
    return and_(*tests) if tests else true()


def holds(value: float, ops: Ops, place: str) -> bool:
    """Whether ``value`` passes ``ops`` (numbers only), computed here: used to decide if customers with no
    row at all (a count or sum of zero) belong."""
    _numbers_only(ops, place, NUMBER_OPERATORS)
    checks: dict[str, Callable[[Any], bool]] = {
        "eq": lambda v: value == v,
        "ne": lambda v: value != v,
        "in": lambda vs: value in vs,
        "not_in": lambda vs: value not in vs,
    }
    for name, given in ops.items():
        check = checks.get(name)
        if not (check(given) if check else _ORDERING[name](value, given)):
            return False
    return True


# -- ages in whole days ---------------------------------------------------------------------------------
def _ago(now: datetime, days: int, place: str) -> datetime:
    if abs(days) > MAX_DAYS:
        raise ConfigError(f"{place}: days must lie within ±{MAX_DAYS:,}, got {days}")
    return now - timedelta(days=days)


def days_test(moment: ColumnElement[Any], ops: Ops, now: datetime, place: str) -> ColumnElement[bool]:
    """``ops`` applied to the whole days elapsed from ``moment`` to ``now`` (``floor((now - moment) / 1
    day)``), written as bounds on ``moment`` so that no date arithmetic runs in SQL and indexes apply."""
    _numbers_only(ops, place, NUMBER_OPERATORS)

    def equal(x: float) -> ColumnElement[bool]:
        if x != math.floor(x):
            return false()
        return and_(moment <= _ago(now, int(x), place), moment > _ago(now, int(x) + 1, place))

    tests: list[ColumnElement[bool]] = []
    for name, given in ops.items():
        if name == "gte":
            tests.append(moment <= _ago(now, math.ceil(given), place))
        elif name == "gt":
            tests.append(moment <= _ago(now, math.floor(given) + 1, place))
        elif name == "lte":
            tests.append(moment > _ago(now, math.floor(given) + 1, place))
        elif name == "lt":
            tests.append(moment > _ago(now, math.ceil(given), place))
        elif name in ("eq", "ne"):
            tests.append(equal(given) if name == "eq" else not_(equal(given)))
        else:
            either = or_(*(equal(x) for x in given)) if given else false()
            tests.append(either if name == "in" else not_(either))
    return and_(*tests) if tests else true()


def days_lower_bound(ops: Ops, now: datetime, place: str) -> datetime | None:
    """When ``ops`` only say "fewer than N days" (``lt``/``lte``), the moment after which ``moment`` must
    lie; None otherwise. Lets "ordered within the last N days" read only the recent rows."""
    if not ops or any(name not in ("lt", "lte") for name in ops):
        return None
    _numbers_only(ops, place, NUMBER_OPERATORS)
    bounds = [
        _ago(now, math.floor(v) + 1 if name == "lte" else math.ceil(v), place) for name, v in ops.items()
    ]
    return max(bounds)
