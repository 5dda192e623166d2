"""Measures, products and categories bought, subscriptions and trial-only buyers, on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest
from segments_seed import NOW, Shop, matching

from kizuna.errors import ConfigError
from kizuna.store import Store


@pytest.fixture
def shop(store: Store) -> Shop:
    """Four customers: a lapsed regular, a recent newcomer, a trial-only buyer and one who never ordered."""
    s = Shop(store)
    s.product("BEANS", "食品/コーヒー/豆")
    s.product("TEA", "食品/茶")
    s.product("GOODS", "食品雑貨")
    s.product("TRIAL", "スキンケア/お試し", trial=True)
    s.product("PLAN", "定期便", subscription=True)
    regular = s.customer("regular")
    s.order(regular, "BEANS", days_ago=400, total=3_000)
    s.order(regular, "TEA", days_ago=200, total=1_000)
    s.order(regular, "BEANS", "TEA", days_ago=120, total=2_000)
    s.order(regular, "BEANS", days_ago=5, total=9_999, status="cancelled")  # never counts
    s.order(regular, "TEA", days_ago=4, total=8_888, status="refunded")  # nor does this
    newcomer = s.customer("newcomer")
    s.order(newcomer, "PLAN", days_ago=10, total=4_000)
    s.order(newcomer, "GOODS", days_ago=2, total=500, status="shipped")  # any other status is a purchase
    trial = s.customer("trial")
    s.order(trial, "TRIAL", days_ago=60, total=500)
    s.customer("nobody")
    return s


def test_recency_counts_whole_days_and_needs_an_order(store: Store, shop: Shop) -> None:
    # regular's last counted order is 120 days back (the cancelled one is ignored).
    assert matching(store, {"measure": "days_since_last_order", "gte": 120}) == {"regular"}
    assert matching(store, {"measure": "recency", "gte": 121}) == set()
    assert matching(store, {"measure": "recency", "gt": 119.5}) == {"regular"}
    assert matching(store, {"measure": "recency", "lt": 3}) == {"newcomer"}
    assert matching(store, {"measure": "recency", "lte": 60}) == {"newcomer", "trial"}
    assert matching(store, {"measure": "recency", "eq": 60}) == {"trial"}
    assert matching(store, {"measure": "recency", "in": [2, 120]}) == {"newcomer", "regular"}
    assert matching(store, {"measure": "recency", "ne": 60}) == {"newcomer", "regular"}
    assert matching(store, {"measure": "recency", "exists": False}) == {"nobody"}


def test_recency_boundary_moves_with_one_second(store: Store, shop: Shop) -> None:
    lapsed = {"measure": "days_since_last_order", "gte": 120}
    assert matching(store, lapsed, now=NOW) == {"regular"}
    # One second earlier the order is 119 days, 23:59:59 old: not yet 120 whole days.
    assert matching(store, lapsed, now=NOW - timedelta(seconds=1)) == set()
    assert matching(store, {"measure": "recency", "lt": 120}, now=NOW - timedelta(seconds=1)) == {
        "regular",
        "newcomer",
        "trial",
    }


def test_days_since_first_order(store: Store, shop: Shop) -> None:
    assert matching(store, {"measure": "days_since_first_order", "lt": 30}) == {"newcomer"}
    assert matching(store, {"measure": "days_since_first_order", "gte": 400}) == {"regular"}
    # Within a window the first order is the first one inside it.
    windowed = {"measure": "days_since_first_order", "within_days": 300, "lte": 200}
    assert matching(store, windowed) == {"regular", "newcomer", "trial"}


def test_frequency_and_monetary_are_zero_without_orders(store: Store, shop: Shop) -> None:
    assert matching(store, {"measure": "orders", "gte": 3}) == {"regular"}
    assert matching(store, {"measure": "frequency", "eq": 0}) == {"nobody"}
    assert matching(store, {"measure": "orders", "lt": 2}) == {"trial", "nobody"}
    assert matching(store, {"measure": "orders", "lt": 2, "exists": True}) == {"trial"}
    # In the last 30 days only newcomer ordered; everyone else ordered nothing there.
    assert matching(store, {"measure": "orders", "within_days": 30, "eq": 0}) == {
        "regular",
        "trial",
        "nobody",
    }
    assert matching(store, {"measure": "monetary", "gte": 6_000}) == {"regular"}
    assert matching(store, {"measure": "monetary", "within_days": 30, "gt": 4_000}) == {"newcomer"}
    assert matching(store, {"measure": "monetary", "lt": 1_000}) == {"trial", "nobody"}


def test_average_order_value_is_undefined_without_orders(store: Store, shop: Shop) -> None:
    # regular: 6,000 over 3 orders; newcomer: 4,500 over 2; trial: 500 over 1.
    assert matching(store, {"measure": "average_order_value", "eq": 2_000}) == {"regular"}
    assert matching(store, {"measure": "average_order_value", "gt": 2_000}) == {"newcomer"}
    assert matching(store, {"measure": "average_order_value", "lt": 2_000}) == {"trial"}


def test_measures_take_numbers_only(store: Store, shop: Shop) -> None:
    with pytest.raises(ConfigError, match=r"measure: gte needs a number, got 'ten'"):
        matching(store, {"measure": "orders", "gte": "ten"})
    with pytest.raises(ConfigError, match="contains does not apply here"):
        matching(store, {"measure": "monetary", "contains": "1"})


def test_bought_product_or_category_prefix(store: Store, shop: Shop) -> None:
    assert matching(store, {"bought": {"product": "TEA"}}) == {"regular"}
    # 食品 holds 食品/コーヒー/豆 and 食品/茶 but not 食品雑貨 (a prefix ends at a level).
    assert matching(store, {"bought": {"category": "食品"}}) == {"regular"}
    assert matching(store, {"bought": {"category": "食品雑貨"}}) == {"newcomer"}
    assert matching(store, {"bought": {"category": "食品/コーヒー/"}}) == {"regular"}
    # The cancelled order of BEANS 5 days ago does not count.
    assert matching(store, {"bought": {"product": "BEANS", "within_days": 100}}) == set()
    assert matching(store, {"bought": {"product": "BEANS", "within_days": 120}}) == {"regular"}


def test_active_subscription_and_its_opposite(store: Store, shop: Shop) -> None:
    assert matching(store, {"active_subscription": True}) == {"newcomer"}
    assert matching(store, {"active_subscription": True, "within_days": 9}) == set()
    assert matching(store, {"active_subscription": False}) == {"regular", "trial", "nobody"}


def test_trial_only(store: Store, shop: Shop) -> None:
    assert matching(store, {"trial_only": True}) == {"trial"}
    shop.order(shop.customer("both"), "TRIAL", "TEA", days_ago=1)
    assert matching(store, {"trial_only": True}) == {"trial"}
    assert matching(store, {"trial_only": False}) == {"regular", "newcomer", "nobody", "both"}
