from __future__ import annotations

import pytest
from contract import RecommenderContract

from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.ease import EASE


class TestEASE(RecommenderContract):
    def make(self) -> Recommender:
        return EASE(regularisation=1.0)


def test_refuses_catalogues_too_large_for_a_dense_model() -> None:
    data = TrainingData.from_ids([1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="max_items=2"):
        EASE(max_items=2).fit(data)
