"""Events counted in windows, and products viewed but not bought since, on both stores."""

from __future__ import annotations

import pytest
from segments_seed import Shop, ids_of, matching

from kizuna.errors import ConfigError
from kizuna.store import Store


@pytest.fixture
def shop(store: Store) -> Shop:
    s = Shop(store)
    s.product("BEANS", "食品/コーヒー/豆")
    s.product("42", "食品/茶")
    s.product("MUG", "雑貨")
    browser = s.customer("browser")
    for days in (1, 2, 6):
        s.event(browser, "Product Viewed", days_ago=days, sku="BEANS", price=1200)
    s.event(browser, "Product Viewed", days_ago=1.5, product_id=42, price="1200")  # product_id, numeric
    s.event(browser, "Page Viewed", days_ago=1)
    buyer = s.customer("buyer")
    s.event(buyer, "Product Viewed", days_ago=3, sku="BEANS", price=1200)
    s.order(buyer, "BEANS", days_ago=2)
    returner = s.customer("returner")
    s.order(returner, "MUG", days_ago=5)
    s.event(returner, "Product Viewed", days_ago=4, sku="MUG")  # viewed again after buying
    s.customer("quiet")
    s.event(None, "Product Viewed", days_ago=1, sku="MUG")  # anonymous: never counts
    return s


def test_event_counts_in_a_window(store: Store, shop: Shop) -> None:
    viewed = {"event": "Product Viewed", "within_days": 7}
    assert matching(store, viewed) == {"browser", "buyer", "returner"}
    assert matching(store, viewed | {"count": {"gte": 4}}) == {"browser"}
    assert matching(store, viewed | {"within_days": 5, "count": {"eq": 3}}) == {"browser"}
    assert matching(store, {"event": "Product Viewed", "within_days": 2}) == {"browser"}
    # Zero passes "fewer than two", so customers without any such event belong.
    assert matching(store, viewed | {"count": {"lt": 2}}) == {"buyer", "returner", "quiet"}
    assert matching(store, {"event": "Order Completed"}) == set()
    assert matching(store, {"event": "Order Completed", "count": {"eq": 0}}) == {
        "browser",
        "buyer",
        "returner",
        "quiet",
    }


def test_event_window_boundary_is_inclusive(store: Store, shop: Shop) -> None:
    # browser's oldest view is exactly 6 days back: inside a 6-day window, outside a 5-day one.
    six = {"event": "Product Viewed", "where": {"sku": "BEANS"}, "count": {"gte": 3}}
    assert matching(store, six | {"within_days": 6}) == {"browser"}
    assert matching(store, six | {"within_days": 5}) == set()


def test_where_compares_each_property_within_its_type(store: Store, shop: Shop) -> None:
    assert matching(store, {"event": "Product Viewed", "where": {"sku": "BEANS"}}) == {"browser", "buyer"}
    numeric = {"event": "Product Viewed", "where": {"price": 1200}, "count": {"gte": 3}}
    # The view with price "1200" (a string) is not a view with price 1200 (a number).
    assert matching(store, numeric) == {"browser"}
    assert matching(store, numeric | {"count": {"gte": 4}}) == set()
    assert matching(store, {"event": "Product Viewed", "where": {"price": "1200"}}) == {"browser"}


def test_count_takes_numbers_only(store: Store, shop: Shop) -> None:
    with pytest.raises(ConfigError, match=r"event count: exists does not apply here"):
        matching(store, {"event": "Product Viewed", "count": {"exists": True}})


def test_viewed_not_bought_since_the_view(store: Store, shop: Shop) -> None:
    beans = {"viewed_not_bought": {"product": "BEANS", "within_days": 7}}
    # buyer viewed BEANS 3 days ago and ordered it a day later; browser never ordered it.
    assert matching(store, beans) == {"browser"}
    # returner bought MUG, then viewed it again: that view has no order after it.
    assert matching(store, {"viewed_not_bought": {"product": "MUG", "within_days": 7}}) == {"returner"}
    # product_id names the product when sku is absent, even as a JSON number.
    assert matching(store, {"viewed_not_bought": {"product": "42", "within_days": 2}}) == {"browser"}
    assert matching(store, {"viewed_not_bought": {"category": "食品", "within_days": 7}}) == {"browser"}
    assert matching(store, {"viewed_not_bought": {"category": "雑貨", "within_days": 3}}) == set()


def test_viewed_not_bought_restricted_to_some_customers(store: Store, shop: Shop) -> None:
    ids = ids_of(store)
    beans = {"viewed_not_bought": {"category": "食品", "within_days": 7}}
    assert matching(store, beans, customer_ids=[ids["buyer"], ids["quiet"]]) == set()
    assert matching(store, beans, customer_ids=[ids["browser"]]) == {"browser"}
