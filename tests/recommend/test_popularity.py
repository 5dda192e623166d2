from __future__ import annotations

import numpy as np
import pytest
from contract import RecommenderContract

from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.popularity import Popularity, category_prefix


class TestPopularity(RecommenderContract):
    personalised = False

    def make(self) -> Recommender:
        return Popularity()


def test_ranks_by_distinct_customers() -> None:
    data = TrainingData.from_ids([1, 1, 1, 2, 3], [10, 10, 11, 11, 11])
    ids, scores, _ = Popularity().fit(data).recommend(99, n=2)
    assert list(ids) == [11, 10]
    np.testing.assert_allclose(scores, [3.0, 1.0])


def test_trending_favours_recent_interactions() -> None:
    day = 86_400.0
    data = TrainingData.from_ids([1, 2, 3, 4], [10, 10, 11, 12], times=[0.0, 1 * day, 30 * day, 29 * day])
    ids, _, _ = Popularity(half_life_days=7).fit(data).recommend(99, n=3)
    assert list(ids) == [11, 12, 10]
    ids, _, _ = Popularity().fit(data).recommend(99, n=1)
    assert list(ids) == [10]


class TestPopularityPerCategory(RecommenderContract):
    personalised = False  # it ranks whole categories, not the one missing product

    def make(self) -> Recommender:
        categories = {p: ("Food/Tea/Green" if p < 510 else "Food/Coffee/Beans") for p in range(500, 520)}
        return Popularity(per_category=True, categories=categories)


def test_per_category_puts_the_customers_own_categories_first() -> None:
    # Customer 1 buys tea; coffee is more popular overall.
    customers = [1, 1, 2, 3, 4, 5, 6]
    products = [10, 11, 20, 20, 21, 21, 12]
    categories = {10: "Drinks/Tea/Green", 11: "Drinks/Tea/Black", 12: "Drinks/Tea/Herb", 20: "Drinks/Coffee",
                  21: "Drinks/Coffee/Beans"}  # fmt: skip
    data = TrainingData.from_ids(customers, products)
    model = Popularity(per_category=True, categories=categories).fit(data)
    ids, _, reasons = model.recommend(1, n=3)
    assert list(ids) == [12, 20, 21]
    assert reasons[0].code == "popular_in_category" and reasons[0].detail == {"category": "Drinks/Tea"}
    assert "Drinks/Tea" in reasons[0].describe() and "Drinks/Tea" in reasons[0].describe(lang="ja")
    assert reasons[1].code == "popular"
    # A new customer gets plain popularity.
    ids, _, _ = model.recommend(99, n=2)
    assert list(ids) == [20, 21]


def test_per_category_without_categories_says_how_to_get_them() -> None:
    with pytest.raises(ValueError, match="from_store"):
        Popularity(per_category=True).fit(TrainingData.from_ids([1], [2]))


def test_category_prefix_cuts_paths_of_any_separator() -> None:
    assert category_prefix("Food > Coffee > Beans", 2) == "Food/Coffee"
    assert category_prefix("食品/コーヒー/豆", 1) == "食品"
