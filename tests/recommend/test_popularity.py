from __future__ import annotations

import numpy as np
from contract import RecommenderContract

from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.popularity import Popularity


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
