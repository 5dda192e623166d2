"""Attributes (columns and JSON keys) and consent in force, on both stores."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from segments_seed import NOW, Shop, ids_of, matching

from kizuna.config import get_settings
from kizuna.errors import ConfigError
from kizuna.store import Store


@pytest.fixture
def shop(store: Store) -> Shop:
    s = Shop(store)
    s.customer(
        "tokyo",
        prefecture="東京都",
        email="Hanako@Example.jp",
        birth_date=date(1980, 5, 1),
        attributes={"rank": 10, "tier": "gold", "vip": True, "note": "年間購入者"},
    )
    s.customer(
        "osaka",
        prefecture="大阪府",
        birth_date=date(1995, 1, 1),
        attributes={"rank": 9, "tier": "Gold", "vip": False},
    )
    s.customer("text-rank", prefecture="東京都", attributes={"rank": "10", "tier": "silver"})
    s.customer("bare")
    return s


def test_columns_by_name(store: Store, shop: Shop) -> None:
    assert matching(store, {"attribute": "prefecture", "eq": "東京都"}) == {"tokyo", "text-rank"}
    assert matching(store, {"attribute": "prefecture", "in": ["大阪府", "京都府"]}) == {"osaka"}
    # ne and not_in need a value: "bare" has no prefecture, so it is not "not Tokyo".
    assert matching(store, {"attribute": "prefecture", "ne": "東京都"}) == {"osaka"}
    assert matching(store, {"attribute": "prefecture", "not_in": ["東京都"]}) == {"osaka"}
    assert matching(store, {"attribute": "prefecture", "exists": False}) == {"bare"}
    assert matching(store, {"attribute": "birth_date", "gte": "1990-01-01"}) == {"osaka"}
    assert matching(store, {"attribute": "birth_date", "gte": "1980-05-01", "lt": "1995-01-01"}) == {"tokyo"}


def test_contains_is_a_case_sensitive_substring_on_both_stores(store: Store, shop: Shop) -> None:
    assert matching(store, {"attribute": "email", "contains": "Example"}) == {"tokyo"}
    assert matching(store, {"attribute": "email", "contains": "example"}) == set()
    assert matching(store, {"attribute": "email", "contains": "%"}) == set()
    assert matching(store, {"attribute": "note", "contains": "購入"}) == {"tokyo"}


def test_json_numbers_compare_as_numbers_and_strings_as_strings(store: Store, shop: Shop) -> None:
    # 10 > 9 as numbers; the text "10" is not a number and never passes a numeric test.
    assert matching(store, {"attribute": "rank", "gt": 9}) == {"tokyo"}
    assert matching(store, {"attribute": "rank", "gte": 9}) == {"tokyo", "osaka"}
    assert matching(store, {"attribute": "rank", "gt": 9.5, "lte": 10.0}) == {"tokyo"}
    assert matching(store, {"attribute": "rank", "in": [9.0, 11]}) == {"osaka"}
    assert matching(store, {"attribute": "rank", "eq": 10}) == {"tokyo"}
    assert matching(store, {"attribute": "rank", "eq": "10"}) == {"text-rank"}
    # As strings "10" < "9": ordering follows the type of the value given.
    assert matching(store, {"attribute": "rank", "lt": "9"}) == {"text-rank"}
    # Code-point order: "Gold" < "gold" < "silver" on both stores, whatever the database collation.
    assert matching(store, {"attribute": "tier", "lt": "gold"}) == {"osaka"}
    assert matching(store, {"attribute": "attributes.tier", "in": ["gold", "silver"]}) == {
        "tokyo",
        "text-rank",
    }


def test_json_ne_exists_and_booleans(store: Store, shop: Shop) -> None:
    assert matching(store, {"attribute": "rank", "ne": 10}) == {"osaka", "text-rank"}
    assert matching(store, {"attribute": "rank", "not_in": [9, 10]}) == {"text-rank"}
    assert matching(store, {"attribute": "vip", "eq": True}) == {"tokyo"}
    assert matching(store, {"attribute": "vip", "eq": False}) == {"osaka"}
    assert matching(store, {"attribute": "vip", "exists": False}) == {"text-rank", "bare"}
    assert matching(store, {"attribute": "attributes.rank", "exists": True}) == {
        "tokyo",
        "osaka",
        "text-rank",
    }


def test_values_must_suit_the_column(store: Store, shop: Shop) -> None:
    with pytest.raises(ConfigError, match=r"attribute: is text; compare it with a string"):
        matching(store, {"attribute": "prefecture", "eq": 13})
    with pytest.raises(ConfigError, match=r"expected an ISO date"):
        matching(store, {"attribute": "birth_date", "gte": "1990/01/01"})
    with pytest.raises(ConfigError, match=r"contains needs a text value"):
        matching(store, {"attribute": "birth_date", "contains": "1990"})
    with pytest.raises(ConfigError, match=r"gt needs a number or a string"):
        matching(store, {"attribute": "vip", "gt": True})
    with pytest.raises(ConfigError, match=r"name the key"):
        matching(store, {"attribute": "attributes.", "exists": True})


def test_consent_latest_decision_wins_with_defaults(
    store: Store, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = ids_of(store)
    shop.consent(ids["tokyo"], "email", "granted", days_ago=10)
    shop.consent(ids["osaka"], "email", "granted", days_ago=10)
    shop.consent(ids["osaka"], "email", "withdrawn", days_ago=2)
    shop.consent(ids["text-rank"], "email", "denied", days_ago=10)
    shop.consent(ids["text-rank"], "email", "granted", days_ago=10)  # same moment, later record wins
    shop.consent(ids["tokyo"], "personalisation", "denied", days_ago=1)
    # email is opt-in: only a granted latest decision lets a customer in.
    assert matching(store, {"consent": "email"}) == {"tokyo", "text-rank"}
    # personalisation is opt-out: everyone but those whose latest decision refuses.
    assert matching(store, {"consent": "personalisation"}) == {"osaka", "text-rank", "bare"}
    assert matching(store, {"not": {"consent": "email"}}) == {"osaka", "bare"}
    monkeypatch.setenv("KIZUNA_CONSENT_DEFAULTS", '{"email": "opt-out"}')
    get_settings.cache_clear()
    assert matching(store, {"consent": "email"}) == {"tokyo", "text-rank", "bare"}


def test_consent_is_read_as_it_stood_at_the_moment_evaluated(store: Store, shop: Shop) -> None:
    ids = ids_of(store)
    shop.consent(ids["tokyo"], "email", "granted", days_ago=10)
    shop.consent(ids["osaka"], "email", "granted", days_ago=10)
    shop.consent(ids["osaka"], "email", "withdrawn", days_ago=2)
    shop.consent(ids["tokyo"], "personalisation", "denied", days_ago=1)
    five_days_ago = NOW - timedelta(days=5)
    # Osaka's withdrawal and Tokyo's refusal came later: five days ago both were still in.
    assert matching(store, {"consent": "email"}, now=five_days_ago) == {"tokyo", "osaka"}
    assert "tokyo" in matching(store, {"consent": "personalisation"}, now=five_days_ago)
    # Before any decision the defaults held: email opt-in, personalisation opt-out.
    assert matching(store, {"consent": "email"}, now=NOW - timedelta(days=20)) == set()
    assert "tokyo" in matching(store, {"consent": "personalisation"}, now=NOW - timedelta(days=20))
    assert matching(store, {"consent": "email"}) == {"tokyo"}


def test_japanese_keys_whether_the_json_escapes_them_or_not(store: Store) -> None:
    # The ORM writes {"会員ランク": ...} as "\u4f1a\u54e1..." on SQLite; the tracking API writes it as is.
    Shop(store).customer("escaped", attributes={"会員ランク": "ゴールド"})
    written = json.dumps({"会員ランク": "ゴールド"}, ensure_ascii=False)
    sql = "INSERT INTO customers (external_id, attributes, created_at, updated_at) VALUES "
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            stamp = "2026-01-01 00:00:00.000000"
            conn.exec_driver_sql(sql + "(?, ?, ?, ?)", ("written", written, stamp, stamp))
        else:
            conn.exec_driver_sql(sql + "(%s, %s::jsonb, now(), now())", ("written", written))
    assert matching(store, {"attribute": "会員ランク", "eq": "ゴールド"}) == {"escaped", "written"}
    assert matching(store, {"attribute": "会員ランク", "exists": False}) == set()
