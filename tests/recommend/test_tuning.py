"""Choosing a hyperparameter on a validation split of the training data: the log-scale search, the customer
sample it may fit on, and ALS, which searches its regularisation when none is given."""

from __future__ import annotations

import numpy as np
import pytest
from contract import checkerboard, grocery

from kizuna.recommend import tuning
from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.factorisation import ALS
from kizuna.recommend.popularity import Popularity
from kizuna.recommend.tuning import log_search


def test_the_search_refines_between_the_first_values() -> None:
    # A sharp optimum at 33, between the first values 1, 10 and 100: one round tries √(10·100) ≈ 31.6 beside
    # the best first value (100); the next tries either side of 31.6 and keeps it.
    tried: list[float] = []

    def evaluate(value: float) -> tuple[float, Recommender]:
        tried.append(value)
        return -abs(np.log(value / 33.0)), Popularity()

    value, model = log_search(evaluate, (1.0, 10.0, 100.0), rounds=2)
    assert value == pytest.approx(np.sqrt(1000.0))
    assert isinstance(model, Popularity)
    expected = [
        1.0,
        10.0,
        np.sqrt(np.sqrt(1000.0) * 10.0),
        np.sqrt(1000.0),
        np.sqrt(np.sqrt(1000.0) * 100.0),
        100.0,
    ]
    assert sorted(tried) == pytest.approx(expected)
    assert log_search(evaluate, (1.0, 10.0, 100.0), rounds=0)[0] == 100.0


def test_a_sampled_search_keeps_the_validation_customers_and_their_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tuning, "SEARCH_CUSTOMERS", 8)
    data = grocery()  # 60 customers
    rows = np.array([3, 17, 42])
    relevant = {3: {1}, 17: {2}, 42: {3}}
    part = tuning.customer_sample(data, rows, relevant, np.random.default_rng(0))
    assert part is not None
    assert part.data.n_users == 8 and len(np.unique(part.data.interactions.user)) == 8
    # The validation customers are in the sample, with every choice they made and what is right for them.
    assert part.data.customer_ids[part.rows].tolist() == data.customer_ids[rows].tolist()
    assert {part.data.customer_ids[r]: v for r, v in part.relevant.items()} == {
        data.customer_ids[r]: v for r, v in relevant.items()
    }
    original, sampled = data.matrix().toarray(), part.data.matrix().toarray()
    kept = [int(np.flatnonzero(data.customer_ids == c)[0]) for c in part.data.customer_ids]
    np.testing.assert_array_equal(sampled, original[kept])
    np.testing.assert_array_equal(part.seen.toarray(), sampled)
    # Few enough customers: no sample.
    monkeypatch.setattr(tuning, "SEARCH_CUSTOMERS", 60)
    assert tuning.customer_sample(data, rows, relevant, np.random.default_rng(0)) is None


def test_als_searches_its_regularisation_when_none_is_given() -> None:
    data = grocery()
    model = ALS(factors=4, num_threads=1).fit(data)
    report = model.metrics["validation"]
    chosen = report["chosen_params"]["regularization"]
    assert model.regularization is None and model.fitted_regularization == chosen
    assert 1.0 <= chosen <= 100.0  # within the values the search tries
    assert report["split"] == "last 28 days" and report["customers"] > 0
    # Its factors are those of an ALS fitted on all the data with that value.
    given = ALS(factors=4, regularization=chosen, num_threads=1).fit(data)
    assert given.item_factors is not None and model.item_factors is not None
    np.testing.assert_allclose(model.item_factors, given.item_factors, rtol=1e-5, atol=1e-6)
    assert "validation" not in given.metrics


def test_als_picks_the_regularisation_that_ranks_best_on_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    scores = {1.0: 0.1, 10.0: 0.3, 100.0: 0.2}

    def judged(model: Recommender, *args: object) -> float:
        assert isinstance(model, ALS) and model.regularization is not None
        return scores.get(model.regularization, 0.0)

    monkeypatch.setattr(tuning, "own_ndcg", judged)
    model = ALS(factors=4, num_threads=1).fit(grocery())
    assert model.fitted_regularization == 10.0


def test_als_falls_back_when_nothing_is_held_out() -> None:
    # One choice per customer: the random split keeps it in the fitted part, so nothing is held out.
    data = TrainingData.from_ids(list(range(10)), [100 + c % 3 for c in range(10)])
    model = ALS(factors=2, num_threads=1).fit(data)
    assert model.fitted_regularization == ALS.SEARCH.fallback
    assert model.metrics["validation"]["fallback"] is True
    assert ALS(factors=2, num_threads=1).fit(checkerboard()).metrics["validation"]["customers"] > 0
