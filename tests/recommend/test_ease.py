from __future__ import annotations

import numpy as np
import pytest
from contract import RecommenderContract

import kizuna.recommend.ease as ease_module
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


DAY = 86_400.0


def visits() -> TrainingData:
    """Ten customers chose product 2 and product 1 half a minute apart; ten others chose 2 and product 3
    ninety days apart; customer 99 chose only product 2. By co-occurrence alone 1 and 3 are alike."""
    customers, products, times = [], [], []
    for c in range(20):
        other, gap = (1, 30.0) if c < 10 else (3, 90 * DAY)
        customers += [c, c]
        products += [2, other]
        times += [c * DAY, c * DAY + gap]
    customers.append(99)
    products.append(2)
    times.append(0.0)
    return TrainingData.from_ids(customers, products, times=times)


def test_products_chosen_in_one_visit_count_more() -> None:
    data = visits()
    ids, scores, _ = EASE(regularisation=1.0).fit(data).recommend(99, n=2)
    assert list(ids) == [1, 3] and scores[0] > scores[1]
    _, plain, _ = EASE(regularisation=1.0, session_seconds=0.0).fit(data).recommend(99, n=2)
    assert plain[0] == pytest.approx(plain[1])


def test_refit_over_lambda_counts_co_occurrence_once(monkeypatch: pytest.MonkeyPatch) -> None:
    data = visits()
    calls = []
    counted = ease_module.session_pairs
    monkeypatch.setattr(ease_module, "session_pairs", lambda *a, **k: calls.append(1) or counted(*a, **k))
    base = EASE(regularisation=1.0)
    first, second = base.refit(data, regularisation=5.0), base.refit(data, regularisation=50.0)
    assert len(calls) == 1
    for model, lam in ((first, 5.0), (second, 50.0)):
        assert model.regularisation == lam
        fresh = EASE(regularisation=lam).fit(data)
        assert model.weights is not None and fresh.weights is not None
        np.testing.assert_allclose(model.weights, fresh.weights, atol=1e-12)


def test_the_inverse_falls_back_to_lu_when_not_positive_definite() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 50))
    positive = a @ a.T + np.eye(50)
    np.testing.assert_allclose(ease_module._inverse(positive.copy()), np.linalg.inv(positive), atol=1e-10)
    indefinite = positive.copy()
    indefinite[0, 1] = indefinite[1, 0] = 1e3
    np.testing.assert_allclose(ease_module._inverse(indefinite), np.linalg.inv(indefinite), atol=1e-10)


def test_refuses_negative_session_settings() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        EASE(session_seconds=-1.0)
