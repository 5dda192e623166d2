"""The built-in segments: valid data with both descriptions, each finding the customers it describes."""

from __future__ import annotations

import re

import pytest
from segments_seed import Shop, matching

from kizuna.errors import ConfigError
from kizuna.segments.builtin import BUILTINS, VIP_SPEND, builtin
from kizuna.segments.conditions import condition_to_data
from kizuna.segments.registry import NAME_PATTERN
from kizuna.store import Store


def test_every_builtin_is_plain_valid_data_with_two_descriptions() -> None:
    assert len(BUILTINS) >= 7
    for name, b in BUILTINS.items():
        assert NAME_PATTERN.match(name) and b.name == name
        assert b.en and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", b.ja)
        d = b.definition()
        assert d.name == name and b.en in (d.description or "") and b.ja in (d.description or "")
        assert condition_to_data(d.condition) == condition_to_data(b.definition().condition)
    assert builtin("vip").definition("big-spenders").name == "big-spenders"
    with pytest.raises(ConfigError, match="no built-in segment 'nope': use one of trial-only, lapsed"):
        builtin("nope")


@pytest.fixture
def shop(store: Store) -> Shop:
    s = Shop(store)
    s.product("FULL", "スキンケア/化粧水")
    s.product("TRIAL", "スキンケア/お試し", trial=True)
    s.product("PLAN", "定期便", subscription=True)
    s.order(s.customer("trial"), "TRIAL", days_ago=40)
    s.order(s.customer("lapsed"), "FULL", days_ago=100)
    s.order(s.customer("subscriber"), "PLAN", days_ago=20)
    s.order(s.customer("new"), "FULL", days_ago=5)
    vip = s.customer("vip")
    s.order(vip, "FULL", days_ago=400, total=1_000)
    s.order(vip, "FULL", days_ago=300, total=VIP_SPEND)
    s.order(s.customer("once-big"), "FULL", days_ago=400, total=VIP_SPEND * 2)
    abandoner = s.customer("abandoner")
    s.order(abandoner, "FULL", days_ago=50)
    s.event(abandoner, "Product Added", days_ago=1, sku="FULL")
    buyer = s.customer("checkout")
    s.order(buyer, "FULL", days_ago=60)
    s.event(buyer, "Product Added", days_ago=1, sku="FULL")
    s.order(buyer, "FULL", days_ago=0.9)
    s.consent(s.customer("mail"), "email", "granted", days_ago=3)
    s.consent(s.customer("post"), "direct_mail", "granted", days_ago=3)
    return s


EXPECTED = {
    "trial-only": {"trial"},
    "lapsed": {"lapsed", "vip", "once-big"},
    "active-subscribers": {"subscriber"},
    "new-customers": {"subscriber", "new"},
    "vip": {"vip"},
    "cart-abandoners": {"abandoner"},
    "email-reachable": {"mail"},
    "dm-reachable": {"post"},
}


def test_each_builtin_finds_its_customers(store: Store, shop: Shop) -> None:
    assert set(EXPECTED) == set(BUILTINS)
    for name, expected in EXPECTED.items():
        assert matching(store, BUILTINS[name].condition) == expected, name
