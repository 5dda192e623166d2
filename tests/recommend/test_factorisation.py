"""ALS and BPR pass the recommender contract, train reproducibly and explain with the customer's products."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from contract import RecommenderContract, checkerboard

from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.evaluate.run import score_model
from kizuna.recommend.evaluate.splits import stratified_split
from kizuna.recommend.factorisation import ALS, BPR
from kizuna.recommend.popularity import Popularity


class TestALS(RecommenderContract):
    def make(self) -> Recommender:
        return ALS(factors=8, regularization=0.01, iterations=20, num_threads=1)


class TestBPR(RecommenderContract):
    # One thread: BPR's updates from several threads interleave; the contract needs the same model each run.
    def make(self) -> Recommender:
        return BPR(factors=8, learning_rate=0.05, regularization=0.01, iterations=300, num_threads=1)


@pytest.mark.parametrize(
    "make", [lambda: ALS(factors=8, num_threads=1), lambda: BPR(factors=8, num_threads=1)]
)
def test_same_seed_same_factors(make: object) -> None:
    assert callable(make)
    a, b = make().fit(checkerboard()), make().fit(checkerboard())
    np.testing.assert_array_equal(a.item_factors, b.item_factors)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)


def test_als_reasons_name_products_of_the_own_group() -> None:
    model = ALS(factors=8, regularization=0.01, iterations=20, num_threads=1).fit(checkerboard())
    ids, _, reasons = model.recommend(1000, n=1)
    assert list(ids) == [500]
    assert reasons[0].code == "taste"
    assert 1 <= len(reasons[0].item_ids) <= 2
    assert set(reasons[0].item_ids) <= set(range(501, 510))


def test_alpha_scales_the_weights() -> None:
    data = checkerboard()
    plain = ALS(factors=8, iterations=5, num_threads=1).fit(data)
    confident = ALS(factors=8, iterations=5, alpha=40.0, num_threads=1).fit(data)
    assert plain.item_factors is not None and confident.item_factors is not None
    assert not np.allclose(plain.item_factors, confident.item_factors)


def test_artefact_holds_the_factors_without_pickle(tmp_path: Path) -> None:
    model = BPR(factors=4, iterations=10, num_threads=1).fit(checkerboard())
    path = model.save(tmp_path / "bpr")
    with np.load(path, allow_pickle=False) as npz:
        assert npz["item_factors"].shape[0] == 21
        assert npz["user_factors"].shape[0] == 20


def tastes(seed: int) -> TrainingData:
    """600 customers choosing 10-40 of 300 products by a mix of six tastes and a long-tailed popularity,
    rated 1-5: data where a factor model has something to find and room to overfit."""
    rng = np.random.default_rng(seed)
    taste = rng.dirichlet(np.full(6, 0.3), 600)
    group = rng.integers(0, 6, 300)
    popular = rng.pareto(1.5, 300) + 1
    customers: list[int] = []
    products: list[int] = []
    for u in range(600):
        p = taste[u][group] * popular
        chosen = rng.choice(300, size=int(rng.integers(10, 40)), replace=False, p=p / p.sum())
        customers += [u] * len(chosen)
        products += chosen.tolist()
    ratings = rng.integers(1, 6, len(customers)).astype(float)
    return TrainingData.from_ids(np.array(customers), np.array(products), weights=ratings)


@pytest.mark.parametrize("seed", [0, 1])
def test_als_defaults_rank_well_where_implicits_overfit(seed: int) -> None:
    data = tastes(seed)
    train, test = (data.with_interactions(x) for x in stratified_split(data.interactions, 0.75, seed=1))

    def ndcg(model: Recommender) -> float:
        return score_model(model.fit(train), train, test, 10)["ndcg@10"]

    ours = ndcg(ALS(num_threads=1))
    implicits = ndcg(ALS(factors=100, regularization=0.01, num_threads=1))
    popular = ndcg(Popularity())
    assert ours > 1.5 * popular
    assert ours > 2 * implicits
