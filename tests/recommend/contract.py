"""The contract every recommender passes. An algorithm's test module subclasses ``RecommenderContract``
and says how to build the model; the tests here then run against it.

Synthetic data with a known answer: two taste groups. Customers 1000–1009 each chose all but one of
products 500–509; customers 1010–1019 all but one of 510–519. A personalised model must recommend each
customer the missing product of their own group first.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason


def checkerboard() -> TrainingData:
    customers, products = [], []
    for group in range(2):
        for u in range(10):
            for i in range(10):
                if i != u:
                    customers.append(1000 + group * 10 + u)
                    products.append(500 + group * 10 + i)
    # Product 999 is in the catalogue but nobody chose it yet.
    return TrainingData.from_ids(customers, products, all_products=[999])


def grocery(seed: int = 0) -> TrainingData:
    """Weekly shoppers who mostly rebuy their own staples: 60 customers × 20 weeks, 3 staples each out of
    40 products, plus one random product a week."""
    rng = np.random.default_rng(seed)
    customers, products, times = [], [], []
    for c in range(60):
        staples = rng.choice(40, 3, replace=False)
        for week in range(20):
            for p in [*rng.choice(staples, 2, replace=False), rng.integers(40)]:
                customers.append(c)
                products.append(100 + int(p))
                times.append(week * 7 * 86_400.0 + c)
    return TrainingData.from_ids(customers, products, times=times)


class RecommenderContract:
    """Mixin of contract tests; subclasses set ``personalised`` and implement ``make``."""

    personalised: ClassVar[bool] = True

    def make(self) -> Recommender:
        raise NotImplementedError

    @pytest.fixture
    def model(self) -> Recommender:
        return self.make().fit(checkerboard())

    def test_personalised_models_find_the_missing_item_of_the_own_group(self, model: Recommender) -> None:
        if not self.personalised:
            pytest.skip("not a personalised model")
        for u in range(10):
            ids, _, _ = model.recommend(1000 + u, n=1)
            assert list(ids) == [500 + u]
            ids, _, _ = model.recommend(1010 + u, n=1)
            assert list(ids) == [510 + u]

    def test_seen_items_are_excluded_unless_asked(self, model: Recommender) -> None:
        ids, _, _ = model.recommend(1000, n=25)
        assert not set(ids) & {501, 502, 503, 504, 505, 506, 507, 508, 509}
        ids, _, _ = model.recommend(1000, n=25, exclude_seen=False)
        assert {501, 502} <= set(ids)

    def test_n_scores_and_reasons_line_up(self, model: Recommender) -> None:
        ids, scores, reasons = model.recommend(1003, n=5)
        assert len(ids) == len(scores) == len(reasons) == 5
        assert all(isinstance(r, Reason) for r in reasons)
        assert list(scores) == sorted(scores, reverse=True)
        assert len(set(ids)) == 5

    def test_batch_equals_single(self, model: Recommender) -> None:
        batch = model.recommend([1000, 1015, 1007], n=4)
        for k, customer in enumerate([1000, 1015, 1007]):
            single = model.recommend(customer, n=4)
            assert list(batch.ids[k]) == list(single.ids)
            # Models that score in float32 (factorisation) may differ in the last digits between the two.
            np.testing.assert_allclose(batch.scores[k], single.scores, rtol=1e-5)

    def test_candidates_limit_the_ranking(self, model: Recommender) -> None:
        ids, _, _ = model.recommend(1000, n=10, candidates=[515, 516, 500, 4242])
        assert set(ids) <= {515, 516, 500}
        assert len(ids) == 3

    def test_unknown_customer_gets_popular_products(self, model: Recommender) -> None:
        ids, _, reasons = model.recommend(424242, n=3)
        assert len(ids) == 3 and 999 not in ids
        assert all(r.code == "popular_new" for r in reasons)

    def test_similar_items_exclude_the_item_itself(self, model: Recommender) -> None:
        ids, _, _ = model.similar_items(500, n=5)
        assert 500 not in ids and len(ids) == 5
        if self.personalised:
            assert set(ids[:3]) <= set(range(501, 510))
        unknown, _, _ = model.similar_items(31337, n=5)
        assert len(unknown) == 0

    def test_save_and_load_give_the_same_answers(self, model: Recommender, tmp_path: Path) -> None:
        path = model.save(tmp_path / "model", metrics={"ndcg@10": 0.5})
        loaded = Recommender.load(path)
        assert type(loaded) is type(model)
        assert loaded.params() == model.params()
        assert loaded.metrics == model.metrics and loaded.metrics["ndcg@10"] == 0.5
        assert loaded.snapshot["interactions"] == 180
        for customer in (1000, 1012, 555):
            a, b = model.recommend(customer, n=6), loaded.recommend(customer, n=6)
            assert list(a.ids) == list(b.ids)
            np.testing.assert_allclose(a.scores, b.scores)
            assert a.reasons == b.reasons

    def test_unfitted_model_says_so(self) -> None:
        with pytest.raises(RuntimeError, match="not fitted"):
            self.make().recommend(1, n=3)
