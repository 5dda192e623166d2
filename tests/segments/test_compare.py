"""Comparisons as SQL: ages in whole days, the zero test, and value checks."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from segments_seed import NOW
from sqlalchemy import literal, select

from kizuna.errors import ConfigError
from kizuna.segments.compare import days_lower_bound, days_test, holds, is_number, number_test
from kizuna.store import Store
from kizuna.store.types import UTCDateTime

OFFSETS = [0.0, 0.5, 29.0, 29.999, 30.0, 30.0001, 30.5, 31.0, 89.99, 90.0, -0.5]
TESTS: list[dict[str, Any]] = [
    {"gte": 30},
    {"gt": 30},
    {"lte": 30},
    {"lt": 30},
    {"eq": 30},
    {"ne": 30},
    {"gte": 29.5},
    {"lt": 30.5},
    {"gt": 29.5, "lte": 30.5},
    {"in": [0, 30, 90]},
    {"not_in": [30]},
    {"eq": 30.5},
]


def _python(days: float, ops: dict[str, Any]) -> bool:
    whole = math.floor(days)
    return holds(whole, ops, "test")


def test_days_test_counts_whole_days_on_both_stores(store: Store) -> None:
    with store.engine.connect() as conn:
        for offset in OFFSETS:
            moment = literal(NOW - timedelta(days=offset), UTCDateTime())
            for ops in TESTS:
                found = conn.execute(select(days_test(moment, ops, NOW, "test"))).scalar_one()
                assert bool(found) == _python(offset, ops), (offset, ops)


def test_lower_bound_only_for_fewer_than() -> None:
    assert days_lower_bound({"lt": 30}, NOW, "x") == NOW - timedelta(days=30)
    assert days_lower_bound({"lte": 30}, NOW, "x") == NOW - timedelta(days=31)
    assert days_lower_bound({"lt": 30, "lte": 10}, NOW, "x") == NOW - timedelta(days=11)
    assert days_lower_bound({"gte": 30}, NOW, "x") is None
    assert days_lower_bound({"lt": 30, "gt": 1}, NOW, "x") is None
    assert days_lower_bound({}, NOW, "x") is None


def test_holds_decides_whether_zero_passes() -> None:
    assert holds(0, {"lt": 2}, "x") and holds(0, {"eq": 0}, "x") and holds(0, {"not_in": [1]}, "x")
    assert not holds(0, {"gte": 1}, "x") and not holds(0, {"in": [1, 2]}, "x")
    assert not holds(0, {"gte": 0, "ne": 0}, "x")
    with pytest.raises(ConfigError, match="x: exists does not apply here"):
        holds(0, {"exists": True}, "x")


def test_numbers_exclude_booleans() -> None:
    assert is_number(3) and is_number(2.5) and not is_number(True) and not is_number("3")
    with pytest.raises(ConfigError, match="gte needs a number, got True"):
        number_test(literal(1), {"gte": True}, "x")


def test_ages_beyond_the_calendar_are_refused() -> None:
    with pytest.raises(ConfigError, match="days must lie within"):
        days_test(literal(NOW, UTCDateTime()), {"gte": 10**9}, NOW, "x")
