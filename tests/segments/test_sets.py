"""all / any / not combined as set operations, including complements and customers without orders."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from segments_seed import Shop, ids_of, matching

from kizuna.store import Store

Data = dict[str, Any]

TOKYO: Data = {"attribute": "prefecture", "eq": "東京都"}
BUYER: Data = {"measure": "orders", "gte": 1}
FEW: Data = {"measure": "orders", "lt": 2}  # holds for customers without orders: compiled as a complement
EMAIL: Data = {"consent": "email"}


@pytest.fixture
def shop(store: Store) -> Shop:
    s = Shop(store)
    s.product("P")
    people = {
        "tokyo-buyer": ("東京都", 2, True),
        "tokyo-none": ("東京都", 0, False),
        "osaka-buyer": ("大阪府", 1, True),
        "osaka-none": ("大阪府", 0, True),
        "nowhere": (None, 0, False),
    }
    for name, (prefecture, orders, email) in people.items():
        cid = s.customer(name, prefecture=prefecture)
        for k in range(orders):
            s.order(cid, "P", days_ago=10 + k)
        if email:
            s.consent(cid, "email", "granted", days_ago=1)
    return s


def _expected(store: Store, data: object) -> set[str]:
    """The answer computed from the leaves' answers with Python sets."""
    everyone = set(ids_of(store))
    if isinstance(data, dict) and "all" in data:
        return set.intersection(*(_expected(store, c) for c in data["all"]))
    if isinstance(data, dict) and "any" in data:
        return set.union(*(_expected(store, c) for c in data["any"]))
    if isinstance(data, dict) and "not" in data:
        return everyone - _expected(store, data["not"])
    return matching(store, data)


def test_leaves(store: Store, shop: Shop) -> None:
    assert matching(store, TOKYO) == {"tokyo-buyer", "tokyo-none"}
    assert matching(store, BUYER) == {"tokyo-buyer", "osaka-buyer"}
    assert matching(store, FEW) == {"tokyo-none", "osaka-buyer", "osaka-none", "nowhere"}
    assert matching(store, EMAIL) == {"tokyo-buyer", "osaka-buyer", "osaka-none"}


def test_not_reaches_customers_without_orders(store: Store, shop: Shop) -> None:
    assert matching(store, {"not": BUYER}) == {"tokyo-none", "osaka-none", "nowhere"}
    assert matching(store, {"not": FEW}) == {"tokyo-buyer"}
    assert matching(store, {"not": {"not": BUYER}}) == {"tokyo-buyer", "osaka-buyer"}
    assert matching(store, {"not": TOKYO}) == {"osaka-buyer", "osaka-none", "nowhere"}


@pytest.mark.parametrize(
    "shape",
    [
        lambda a, b: {"all": [a, b]},
        lambda a, b: {"any": [a, b]},
        lambda a, b: {"all": [a, {"not": b}]},
        lambda a, b: {"any": [a, {"not": b}]},
        lambda a, b: {"all": [{"not": a}, {"not": b}]},
        lambda a, b: {"any": [{"not": a}, {"not": b}]},
        lambda a, b: {"not": {"all": [a, {"any": [b, {"not": a}]}]}},
    ],
)
def test_combinations_equal_the_set_algebra_of_their_parts(
    store: Store, shop: Shop, shape: Callable[[Data, Data], Data]
) -> None:
    for a, b in itertools.permutations([TOKYO, BUYER, FEW, EMAIL], 2):
        data = shape(a, b)
        assert matching(store, data) == _expected(store, data), data


def test_three_way_and_or(store: Store, shop: Shop) -> None:
    assert matching(store, {"all": [TOKYO, EMAIL, BUYER]}) == {"tokyo-buyer"}
    assert matching(store, {"any": [TOKYO, EMAIL, {"not": FEW}]}) == {
        "tokyo-buyer",
        "tokyo-none",
        "osaka-buyer",
        "osaka-none",
    }
    assert matching(store, {"all": [{"not": TOKYO}, {"not": EMAIL}, FEW]}) == {"nowhere"}


def test_restricted_to_some_customers(store: Store, shop: Shop) -> None:
    ids = ids_of(store)
    some = [ids["tokyo-none"], ids["nowhere"], ids["osaka-buyer"]]
    assert matching(store, {"not": BUYER}, customer_ids=some) == {"tokyo-none", "nowhere"}
    assert matching(store, {"any": [TOKYO, {"not": EMAIL}]}, customer_ids=some) == {"tokyo-none", "nowhere"}
    assert matching(store, FEW, customer_ids=[]) == set()
