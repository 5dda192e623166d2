from __future__ import annotations

import numpy as np
import pytest
from contract import RecommenderContract, checkerboard, grocery

from kizuna.recommend import tuning
from kizuna.recommend.base import Recommender
from kizuna.recommend.blend import Blend, default_components, scaled
from kizuna.recommend.data import TrainingData
from kizuna.recommend.factorisation import ALS
from kizuna.recommend.tuning import repeat_share, validation_split


class TestBlend(RecommenderContract):
    def make(self) -> Recommender:
        return Blend(
            components=["repurchase", "ease", "popularity"],
            component_params={"ease": {"regularisation": 1.0}},
        )


def test_learns_that_repeat_purchases_dominate_groceries() -> None:
    model = Blend(components=["repurchase", "ease", "popularity"], valid_days=21).fit(grocery())
    report = model.metrics["validation"]
    assert report["repeats"] is True
    assert report["split"] == "last 21 days"
    assert model.components is not None and model.weights is not None
    assert model.components[0] == "repurchase" and model.weights[0] == 1.0
    assert report["ndcg_components"]["repurchase"] > report["ndcg_components"]["popularity"]
    assert report["ndcg_blend"] >= max(report["ndcg_components"].values())
    # A staple comes first, with its reason.
    _, _, reasons = model.recommend(0, n=1, exclude_seen=False)
    assert reasons[0].code == "bought_before"


def test_ratings_validate_on_new_items_with_a_random_split() -> None:
    data = checkerboard()
    fit, valid, label = validation_split(data, 28.0, 0.2, seed=1)
    assert label.startswith("random")
    assert repeat_share(fit, valid) == 0.0
    model = Blend(components=["repurchase", "ease", "popularity"],
                  component_params={"ease": {"regularisation": 1.0}}).fit(data)  # fmt: skip
    assert model.metrics["validation"]["repeats"] is False
    # Repurchase cannot help when every answer is new: it gets no weight and is dropped.
    assert "repurchase" not in (model.components or [])


def test_components_with_given_weights_are_not_relearnt() -> None:
    model = Blend(components=["ease", "popularity"], weights=[1.0, 0.0],
                  component_params={"ease": {"regularisation": 1.0}}).fit(checkerboard())  # fmt: skip
    assert model.components == ["ease"] and model.weights == [1.0]
    assert "validation" not in model.metrics


def test_excluded_categories_are_never_recommended() -> None:
    categories = {p: ("Food/Snacks" if p < 510 else "Foodstuff") for p in range(500, 520)}
    model = Blend(components=["ease"], weights=[1.0], component_params={"ease": {"regularisation": 1.0}},
                  exclude_categories=["Food/"], categories=categories).fit(checkerboard())  # fmt: skip
    ids, _, _ = model.recommend(1000, n=5)
    assert len(ids) and not set(ids) & set(range(500, 510))
    cold, _, _ = model.recommend(31337, n=30)
    assert not set(cold) & set(range(500, 510))
    # A category ends at a level, as in segments and rules: "Food" is not "Foodstuff".
    assert set(cold) & set(range(510, 520))


def test_content_component_reaches_products_nobody_bought() -> None:
    texts = {p: ("sparkling green tea" if p < 510 else "dark roast coffee beans") for p in range(500, 520)}
    texts[999] = "sparkling green tea, new bottle"
    model = Blend(components=["content"], weights=[1.0], texts=texts).fit(checkerboard())
    ids, _, reasons = model.recommend(1000, n=2)
    assert 999 in ids
    assert reasons[list(ids).index(999)].code == "similar"


def test_default_components_follow_the_catalogue_size() -> None:
    assert default_components(1_000) == ["repurchase", "ease", "als", "spectral", "popularity"]
    # EASE's dense model does not fit a catalogue this large; ALS and the spectral filter do.
    assert default_components(100_000, has_texts=True) == [
        "repurchase",
        "als",
        "spectral",
        "popularity",
        "content",
    ]


def test_scaled_divides_each_row_by_its_largest_magnitude() -> None:
    out = scaled(np.array([[2.0, -4.0, 1.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.5, -1.0, 0.25], [0.0, 0.0, 0.0]])


def test_a_blend_cannot_contain_itself() -> None:
    with pytest.raises(ValueError, match="itself"):
        Blend(components=["blend"], weights=[1.0]).fit(checkerboard())


def test_the_blend_searches_als_regularisation_on_its_validation_split() -> None:
    model = Blend(components=["als", "popularity"], component_params={"als": {"factors": 4}}).fit(
        checkerboard()
    )
    chosen = model.metrics["validation"]["chosen_params"]
    assert set(chosen) == {"als"} and chosen["als"]["regularization"] > 0
    # A value given by the caller is not searched.
    given = Blend(
        components=["als", "popularity"], component_params={"als": {"factors": 4, "regularization": 0.5}}
    )
    assert "als" not in given.fit(checkerboard()).metrics["validation"]["chosen_params"]


def test_the_blend_fits_the_value_found_on_a_sample_on_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning, "SEARCH_CUSTOMERS", 20)
    fitted_on: list[int] = []
    fit = ALS.fit

    def counting_fit(self: ALS, data: TrainingData) -> ALS:
        fitted_on.append(len(np.unique(data.interactions.user)))
        return fit(self, data)

    monkeypatch.setattr(ALS, "fit", counting_fit)
    model = Blend(components=["als", "popularity"], component_params={"als": {"factors": 4}}, valid_days=21,
                  max_valid_users=10)  # fmt: skip
    model.fit(grocery())
    # The search on 20 customers; then the value found on the validation part's 60, and on all 60 again.
    assert fitted_on[:-2] and set(fitted_on[:-2]) == {20}
    assert fitted_on[-2:] == [60, 60]
    als = model.models["als"]
    assert isinstance(als, ALS) and als.user_factors is not None and als.user_factors.shape[0] == 60
    assert als.regularization == model.metrics["validation"]["chosen_params"]["als"]["regularization"]
