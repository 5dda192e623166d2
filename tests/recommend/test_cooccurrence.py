from __future__ import annotations

from contract import RecommenderContract

from kizuna.recommend.base import Recommender
from kizuna.recommend.cooccurrence import ItemCooccurrence
from kizuna.recommend.data import TrainingData


class TestItemCooccurrence(RecommenderContract):
    def make(self) -> Recommender:
        return ItemCooccurrence(neighbours=20)


def test_reason_names_the_product_that_drove_it() -> None:
    # Coffee beans (1) are bought with filters (2) by many; customer 9 bought beans only.
    data = TrainingData.from_ids([1, 1, 2, 2, 3, 3, 9, 4], [1, 2, 1, 2, 1, 2, 1, 3])
    ids, _, reasons = ItemCooccurrence(shrink=0).fit(data).recommend(9, n=1)
    assert list(ids) == [2]
    assert reasons[0].code == "also_bought" and reasons[0].item_ids == (1,)
    assert (
        reasons[0].describe({1: "コーヒー豆"}, lang="ja")
        == "コーヒー豆を購入したお客様はこちらも購入しています"
    )
