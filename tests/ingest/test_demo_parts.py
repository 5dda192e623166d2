"""The demo store's pieces, without a database: people, addresses, the catalogue and the answer key."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest
from faker.providers.person.ja_JP import Provider as JaPerson

from kizuna.ingest.demo import demo_preferences
from kizuna.ingest.demo.catalogue import build_catalogue
from kizuna.ingest.demo.people import draw_people
from kizuna.ingest.demo.postal import (
    BY_NAME,
    PREFECTURES,
    draw_postal_codes,
    draw_prefectures,
    prefix_in_range,
)

KATAKANA = re.compile(r"^[ァ-ヶー]+ [ァ-ヶー]+$")
AS_OF = date(2026, 1, 31)


@pytest.fixture(scope="module")
def people():  # type: ignore[no-untyped-def]
    return draw_people(np.random.default_rng(1), np.arange(1, 2_001), AS_OF)


def test_names_come_with_the_matching_kana_and_gender(people) -> None:  # type: ignore[no-untyped-def]
    last = {kanji: kana for kanji, kana, _ in JaPerson.last_name_pairs}
    female = {kanji: kana for kanji, kana, _ in JaPerson.first_name_female_pairs}
    male = {kanji: kana for kanji, kana, _ in JaPerson.first_name_male_pairs}
    for name, kana, gender in zip(people.name, people.name_kana, people.gender, strict=True):
        assert KATAKANA.match(kana), kana
        family, given = name.split(" ")
        kana_family, kana_given = kana.split(" ")
        assert last[family] == kana_family
        firsts = female if gender == "female" else male
        assert firsts[given] == kana_given, (name, gender)
    assert {"female", "male"} == set(people.gender)
    # 佐藤 is Japan's most common surname, and the weights say so.
    assert sum(n.startswith("佐藤 ") for n in people.name) > sum(n.startswith("中川 ") for n in people.name)


def test_emails_are_unique_and_at_example_domains(people) -> None:  # type: ignore[no-untyped-def]
    assert len(set(people.email)) == len(people.email)
    for email in people.email:
        local, domain = email.split("@")
        assert domain in ("example.jp", "example.com", "example.net")
        assert re.fullmatch(r"[a-z][a-z._]*\d+", local), email


def test_phones_and_birth_dates(people) -> None:  # type: ignore[no-untyped-def]
    assert all(re.fullmatch(r"0[789]0-\d{4}-\d{4}", p) for p in people.phone)
    ages = [(AS_OF - date.fromisoformat(b)).days / 365.25 for b in people.birth_date]
    assert min(ages) > 17.9
    assert max(ages) < 80.1
    assert 35 < float(np.mean(ages)) < 55


def test_addresses_are_japanese_and_consistent(people) -> None:  # type: ignore[no-untyped-def]
    for code, prefecture, city in zip(people.postal_code, people.prefecture, people.city, strict=True):
        assert re.fullmatch(r"\d{3}-\d{4}", code)
        assert prefix_in_range(prefecture, code), (prefecture, code)
        assert city in BY_NAME[prefecture].cities
    assert all(re.fullmatch(r"\D+\d+(-\d+){1,2}", line) for line in people.address_line1)
    flats = [line for line in people.address_line2 if line]
    assert 0.2 < len(flats) / len(people.address_line2) < 0.5
    assert all(re.fullmatch(r"\S+ [1-8]0[1-7]", line) for line in flats)
    # Tokyo, the most populous prefecture, is drawn most often.
    assert max(set(people.prefecture), key=people.prefecture.count) == "東京都"


@pytest.mark.parametrize(
    ("prefecture", "inside", "outside"),
    [
        ("東京都", [100, 150, 208], [99, 209, 210]),
        ("北海道", [1, 9, 40, 60, 99], [10, 20, 35, 100]),
        ("秋田県", [10, 19], [9, 20]),
        ("大阪府", [530, 599], [529, 600]),
        ("沖縄県", [900, 909], [899, 910]),
    ],
)
def test_postal_prefixes_follow_japan_post(prefecture: str, inside: list[int], outside: list[int]) -> None:
    for prefix in inside:
        assert prefix_in_range(prefecture, f"{prefix:03d}-0000")
    for prefix in outside:
        assert not prefix_in_range(prefecture, f"{prefix:03d}-0000")


def test_drawn_postal_codes_cover_every_prefecture_range() -> None:
    rng = np.random.default_rng(3)
    index = np.repeat(np.arange(len(PREFECTURES)), 200)
    codes = draw_postal_codes(rng, index)
    for i, code in zip(index.tolist(), codes, strict=True):
        assert prefix_in_range(PREFECTURES[i].name, code)
    hokkaido = [c for i, c in zip(index.tolist(), codes, strict=True) if PREFECTURES[i].name == "北海道"]
    assert any(c < "010" for c in hokkaido) and any(c >= "040" for c in hokkaido)
    assert len(PREFECTURES) == 47
    drawn = draw_prefectures(rng, 10_000)
    assert len(set(drawn.tolist())) > 40


def test_the_catalogue_is_a_japanese_d2c_shop() -> None:
    catalogue = build_catalogue(42)
    rows = catalogue.rows
    assert 200 <= len(rows) <= 500
    assert len({r["sku"] for r in rows}) == len(rows)
    assert all(r["price"] == int(r["price"]) and r["price"] > 0 for r in rows)
    assert all(r["currency"] == "JPY" for r in rows)
    assert all(r["image_url"].startswith("/static/demo/") for r in rows)
    assert all(re.search(r"[ぁ-んァ-ヶ一-龯]", r["title"]) for r in rows)
    assert all(r["description"].endswith("。") and r["description"].count("。") >= 3 for r in rows)
    assert 1 <= sum(not r["in_stock"] for r in rows) <= 40
    trials = [r for r in rows if r["is_trial"]]
    subscriptions = [r for r in rows if r["is_subscription"]]
    assert trials and subscriptions
    assert all("お試しセット" in r["title"] for r in trials)
    assert all(r["title"].startswith("【定期便】") for r in subscriptions)
    skus = {r["sku"] for r in rows}
    assert all(r["attributes"]["full_size_sku"] in skus for r in trials)
    assert {r["category_path"].split("/")[0] for r in rows} >= {
        "スキンケア",
        "コーヒー",
        "健康食品",
        "食品",
        "日用品",
    }
    assert len({r["description"] for r in rows}) > len(rows) * 0.7
    assert build_catalogue(42).rows == rows
    assert build_catalogue(43).rows != rows


def test_preferences_are_the_same_whatever_the_store_size() -> None:
    small = demo_preferences(5, 30)
    large = demo_preferences(5, 2_500)
    assert small.external_ids == large.external_ids[:30]
    assert small.external_ids[0] == "demo-0000001"
    np.testing.assert_array_equal(small.affinity, large.affinity[:30])
    np.testing.assert_allclose(large.affinity.sum(axis=1), 1.0)
    assert large.affinity.shape == (2_500, len(large.categories))
    # Tastes are concentrated: the favourite category carries most of the weight for most customers.
    assert float(np.median(large.affinity.max(axis=1))) > 0.5
    assert 0.08 < large.lapsed.mean() < 0.4
    assert not (large.lapsed & large.subscriber).any()
    assert not np.array_equal(demo_preferences(6, 30).affinity, small.affinity)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="customers"):
        demo_preferences(1, 0)
    with pytest.raises(ValueError, match="seed"):
        demo_preferences(-1, 10)
