from __future__ import annotations

import numpy as np
import pytest
from contract import RecommenderContract, checkerboard

import kizuna.recommend.spectral as spectral_module
from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.spectral import Spectral


class TestSpectral(RecommenderContract):
    def make(self) -> Recommender:
        return Spectral(components=2)


def test_with_every_component_the_filter_passes_choices_through_unchanged() -> None:
    # V Vᵀ is the identity on the products anyone chose once every singular vector is kept, so a customer's
    # scores are their own choices: 1 where chosen, 0 elsewhere (also for the product nobody chose).
    data = checkerboard()
    model = Spectral(components=100).fit(data)
    seen = data.matrix().toarray() > 0
    np.testing.assert_allclose(model._score(np.arange(data.n_users)), seen.astype(float), atol=1e-5)


def test_one_component_is_popularity() -> None:
    # On a connected product graph the smoothest signal is the degree itself (singular vector ∝ √degree),
    # so with one component every customer's scores are proportional to how many customers chose each
    # product. A bridging customer joins the checkerboard's two groups; degrees then differ.
    base = checkerboard()
    customers = [*base.customer_ids[base.interactions.user].tolist(), 2000, 2000, 2001]
    products = [*base.product_ids[base.interactions.item].tolist(), 500, 510, 500]
    data = TrainingData.from_ids(customers, products)
    model = Spectral(components=1).fit(data)
    degree = np.asarray((data.matrix() > 0).sum(axis=0)).ravel()
    for row in range(data.n_users):
        scores = model._score(np.array([row]))[0]
        np.testing.assert_allclose(scores / scores.max(), degree / degree.max(), atol=1e-5)


def test_reasons_name_the_chosen_products_that_pass_the_signal() -> None:
    model = Spectral(components=2).fit(checkerboard())
    _, _, reasons = model.recommend(1000, n=1)
    assert reasons[0].code == "taste"
    assert reasons[0].item_ids and set(reasons[0].item_ids) <= set(range(501, 510))


def test_training_is_reproducible() -> None:
    data = checkerboard()
    a = Spectral(components=3).fit(data)._score(np.arange(data.n_users))
    b = Spectral(components=3).fit(data)._score(np.arange(data.n_users))
    np.testing.assert_array_equal(a, b)


def test_refuses_no_components() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Spectral(components=0)


def random_choices(customers: int, products: int, seed: int = 3) -> TrainingData:
    rng = np.random.default_rng(seed)
    chosen = rng.random((customers, products)) < 0.3
    rows, cols = np.nonzero(chosen)
    return TrainingData.from_ids(rows + 1, cols + 1)


@pytest.mark.parametrize(("customers", "components"), [(30, 5), (10, 10)])
def test_large_catalogues_decompose_alike(
    monkeypatch: pytest.MonkeyPatch, customers: int, components: int
) -> None:
    # Above the dense limit: a truncated SVD (fewer components than customers), or the customers × customers
    # matrix (as many as customers). Both must give the filter of the products × products decomposition.
    data = random_choices(customers, 40)
    rows = np.arange(data.n_users)
    dense = Spectral(components=components).fit(data)._score(rows)
    monkeypatch.setattr(spectral_module, "DENSE_PRODUCTS", 0)
    sparse_path = Spectral(components=components).fit(data)._score(rows)
    np.testing.assert_allclose(sparse_path, dense, atol=1e-5)
