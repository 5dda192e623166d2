from __future__ import annotations

import numpy as np
from contract import RecommenderContract

from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.repurchase import Repurchase

DAY = 86_400.0


class TestRepurchase(RecommenderContract):
    # It ranks what a customer already has: with seen products excluded only popularity is left.
    personalised = False

    def make(self) -> Recommender:
        return Repurchase()


def test_ranks_own_purchases_by_frequency_and_recency() -> None:
    # Customer 1 bought 10 three times long ago, 11 twice recently, 12 once recently; 13 is popular elsewhere.
    customers = [1, 1, 1, 1, 1, 1, 2, 3, 4]
    products = [10, 10, 10, 11, 11, 12, 13, 13, 13]
    times = [0.0, 1 * DAY, 2 * DAY, 300 * DAY, 301 * DAY, 302 * DAY, 302 * DAY, 302 * DAY, 302 * DAY]
    data = TrainingData.from_ids(customers, products, times=times)
    ids, _, reasons = Repurchase(half_life_days=30).fit(data).recommend(1, n=4, exclude_seen=False)
    assert list(ids) == [11, 12, 10, 13]
    assert [r.code for r in reasons[:3]] == ["bought_before"] * 3
    assert reasons[0].detail == {"times": 2}
    assert "2 times" in reasons[0].describe()
    assert "2回" in reasons[0].describe(lang="ja")
    # Without decay, frequency alone decides.
    ids, _, _ = Repurchase(half_life_days=None).fit(data).recommend(1, n=3, exclude_seen=False)
    assert list(ids) == [10, 11, 12]


def test_never_ranks_an_unbought_product_above_a_bought_one() -> None:
    data = TrainingData.from_ids([1, 2, 3, 4, 5], [10, 11, 11, 11, 11])
    ids, scores, _ = Repurchase().fit(data).recommend(1, n=2, exclude_seen=False)
    assert list(ids) == [10, 11]
    assert scores[0] > 100 * scores[1] > 0
    assert np.isfinite(scores).all()
