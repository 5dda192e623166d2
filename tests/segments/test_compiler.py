"""The compiler's public functions: nested segments, cycles, unknown names, restriction to customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from segments_seed import NOW, Shop, ids_of, matching
from sqlalchemy import func, select

from kizuna.errors import ConfigError
from kizuna.segments import compiler
from kizuna.segments.builtin import BUILTINS
from kizuna.segments.compiler import compile_condition, customer_ids_query, matching_ids
from kizuna.segments.conditions import Condition, parse_condition
from kizuna.store import Store

SEGMENTS: dict[str, Any] = {
    "tokyo": {"attribute": "prefecture", "eq": "東京都"},
    "buyers": {"measure": "orders", "gte": 1},
    "tokyo-buyers": {"all": [{"segment": "tokyo"}, {"segment": "buyers"}]},
    "not-tokyo-buyers": {"not": {"segment": "tokyo-buyers"}},
    "loop-a": {"any": [{"segment": "tokyo"}, {"segment": "loop-b"}]},
    "loop-b": {"all": [{"segment": "buyers"}, {"not": {"segment": "loop-a"}}]},
    "self": {"any": [{"segment": "self"}]},
    "dangling": {"all": [{"segment": "tokyo"}, {"segment": "missing"}]},
}


def resolve(name: str) -> Condition:
    return parse_condition(SEGMENTS[name])


@pytest.fixture
def shop(store: Store) -> Shop:
    s = Shop(store)
    s.product("P")
    for name, prefecture, orders in (("a", "東京都", 1), ("b", "東京都", 0), ("c", "大阪府", 2)):
        cid = s.customer(name, prefecture=prefecture)
        for k in range(orders):
            s.order(cid, "P", days_ago=k + 1)
    return s


def test_segment_references_are_inlined(store: Store, shop: Shop) -> None:
    assert matching(store, {"segment": "tokyo-buyers"}, resolve=resolve) == {"a"}
    assert matching(store, {"segment": "not-tokyo-buyers"}, resolve=resolve) == {"b", "c"}
    nested = {"any": [{"segment": "tokyo-buyers"}, {"attribute": "prefecture", "eq": "大阪府"}]}
    assert matching(store, nested, resolve=resolve) == {"a", "c"}


def test_cycles_name_the_chain(store: Store, shop: Shop) -> None:
    with pytest.raises(ConfigError, match="cycle: loop-a → loop-b → loop-a"):
        matching(store, {"segment": "loop-a"}, resolve=resolve)
    with pytest.raises(ConfigError, match="cycle: self → self"):
        customer_ids_query(resolve("self"), now=NOW, resolve=resolve, name="self")


def test_unknown_segment_names_the_chain(store: Store, shop: Shop) -> None:
    with pytest.raises(ConfigError, match=r"unknown segment 'missing' \(referred to by dangling → missing\)"):
        compile_condition(resolve("dangling"), now=NOW, resolve=resolve, name="dangling")


def test_now_must_have_a_time_zone() -> None:
    with pytest.raises(ConfigError, match="no time zone"):
        customer_ids_query(parse_condition({"consent": "email"}), now=datetime(2026, 1, 1), resolve=resolve)


def test_errors_name_the_segment_and_the_place() -> None:
    bad = parse_condition({"all": [{"consent": "email"}, {"not": {"attribute": "prefecture", "gt": 3}}]})
    with pytest.raises(ConfigError, match=r"segment 'x', all\.1\.not\.attribute: is text"):
        compile_condition(bad, now=NOW, resolve=resolve, name="x")


def test_query_returns_each_customer_once(store: Store, shop: Shop) -> None:
    # c has two orders: the join of orders would repeat c without DISTINCT.
    query = customer_ids_query(parse_condition({"bought": {"product": "P"}}), now=NOW, resolve=resolve)
    with store.engine.connect() as conn:
        rows = conn.execute(query).scalars().all()
        counted = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    assert sorted(rows) == sorted(set(rows)) and counted == len(rows) == 2


def test_matching_ids_splits_long_customer_lists(
    store: Store, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiler, "LOOKUP_CHUNK", 1)
    ids = ids_of(store)
    condition = parse_condition({"not": {"segment": "tokyo-buyers"}})
    with store.engine.connect() as conn:
        found = matching_ids(conn, condition, now=NOW, resolve=resolve, customer_ids=[*ids.values(), 10_000])
    assert found == {ids["b"], ids["c"]}


BIG_TABLES = ("orders", "order_lines", "events", "consents", "customers")


def test_queries_for_a_few_customers_read_their_rows_only_on_sqlite(store: Store) -> None:
    # SQLite plans without statistics: left alone it reads every view or every line of a product and
    # filters them by customer. The plan shows which index each table is read through.
    if store.dialect != "sqlite":
        pytest.skip("SQLite's planner")
    conditions = [b.condition for b in BUILTINS.values()] + [
        {"event": "Product Viewed", "within_days": 30, "count": {"gte": 2}},
        {"viewed_not_bought": {"category": "食品", "within_days": 7}},
        {"bought": {"product": "P"}},
        {"not": {"attribute": "prefecture", "eq": "東京都"}},
    ]
    with store.engine.connect() as conn:
        for data in conditions:
            condition = parse_condition(data)
            query = customer_ids_query(condition, now=NOW, resolve=resolve, customer_ids=[1, 2, 3])
            compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            params = tuple(compiled.params[k] for k in compiled.positiontup or [])
            plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)]
            for step in plan:
                assert not any(step.startswith(f"SCAN {table}") for table in BIG_TABLES), (data, plan)
                assert "product_id" not in step and "ix_events_name" not in step, (data, plan)
