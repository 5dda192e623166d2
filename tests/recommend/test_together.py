from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from contract import RecommenderContract

from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.together import FrequentlyBoughtTogether, Rule

NAN = float("nan")
BREAD, BUTTER, JAM, MILK = 1, 2, 3, 4


class TestFrequentlyBoughtTogether(RecommenderContract):
    # The checkerboard has no times: each customer's whole history is one basket, which solves it.
    def make(self) -> Recommender:
        return FrequentlyBoughtTogether(min_support=2)


def baskets() -> TrainingData:
    """Seven baskets (N = 7) from five customers; lines of one basket share a time.

    B1 c11 t=100 {bread, butter}    B2 c11 t=200 {jam}         B3 c12 t=100 {bread, butter, jam}
    B4 c13 t=100 {milk}             B5 c13 t=200 {milk, jam}   B6 c14 undated {bread, butter}
    B7 c15 t=100 {bread}

    Baskets per item: bread 4, butter 3, jam 3, milk 2.
    Pairs: bread+butter 3 (B1, B3, B6); bread+jam 1; butter+jam 1; jam+milk 1 (B5).
    butter → bread: support 3/7, confidence 3/3 = 1,    lift 1 / (4/7) = 1.75
    bread → butter: support 3/7, confidence 3/4 = 0.75, lift 0.75 / (3/7) = 1.75
    milk → jam:     support 1/7, confidence 1/2 = 0.5,  lift 0.5 / (3/7) = 7/6
    jam → milk:     support 1/7, confidence 1/3,        lift (1/3) / (2/7) = 7/6
    bread → jam:    confidence 1/4, lift (1/4) / (3/7) = 7/12;  jam → bread: 1/3, lift (1/3) / (4/7) = 7/12
    butter → jam:   confidence 1/3, lift (1/3) / (3/7) = 7/9;   jam → butter: 1/3, lift 7/9
    """
    lines = [
        (11, BREAD, 100), (11, BUTTER, 100), (11, JAM, 200),
        (12, BREAD, 100), (12, BUTTER, 100), (12, JAM, 100),
        (13, MILK, 100), (13, MILK, 200), (13, JAM, 200),
        (14, BREAD, NAN), (14, BUTTER, NAN),
        (15, BREAD, 100),
    ]  # fmt: skip
    customers, products, times = zip(*lines, strict=True)
    return TrainingData.from_ids(customers, products, times=times)


def test_rules_have_the_support_confidence_and_lift_computed_by_hand() -> None:
    model = FrequentlyBoughtTogether(min_support=1, min_confidence=0.0).fit(baskets())
    assert model.n_baskets == 7
    assert model.rules(min_lift=1.0) == [
        Rule(BUTTER, BREAD, pytest.approx(3 / 7), 1.0, pytest.approx(1.75), 3),
        Rule(BREAD, BUTTER, pytest.approx(3 / 7), 0.75, pytest.approx(1.75), 3),
        Rule(MILK, JAM, pytest.approx(1 / 7), 0.5, pytest.approx(7 / 6), 1),
        Rule(JAM, MILK, pytest.approx(1 / 7), pytest.approx(1 / 3), pytest.approx(7 / 6), 1),
    ]
    everything = model.rules(min_lift=0.0, top=100)
    assert len(everything) == 8
    lifts = {(r.antecedent, r.consequent): r.lift for r in everything}
    assert lifts[(BREAD, JAM)] == pytest.approx(7 / 12)
    assert lifts[(JAM, BUTTER)] == pytest.approx(7 / 9)
    assert [(r.antecedent, r.consequent) for r in model.rules(min_lift=1.0, top=1)] == [(BUTTER, BREAD)]


def test_min_support_and_min_confidence_drop_weak_rules() -> None:
    pairs = FrequentlyBoughtTogether(min_support=2, min_confidence=0.0).fit(baskets()).rules(min_lift=0.0)
    assert {(r.antecedent, r.consequent) for r in pairs} == {(BUTTER, BREAD), (BREAD, BUTTER)}
    confident = FrequentlyBoughtTogether(min_support=1, min_confidence=0.5).fit(baskets()).rules(min_lift=0.0)
    assert {(r.antecedent, r.consequent) for r in confident} == {
        (BUTTER, BREAD),
        (BREAD, BUTTER),
        (MILK, JAM),
    }


def test_neighbours_keep_the_most_confident_rules_per_product() -> None:
    model = FrequentlyBoughtTogether(min_support=1, min_confidence=0.0, neighbours=1).fit(baskets())
    kept = {(r.antecedent, r.consequent) for r in model.rules(min_lift=0.0)}
    assert (BREAD, BUTTER) in kept and (BREAD, JAM) not in kept
    assert sum(1 for a, _ in kept if a == BREAD) == 1


def test_recommendations_go_with_the_latest_basket() -> None:
    model = FrequentlyBoughtTogether(min_support=1, min_confidence=0.0).fit(baskets())
    # Customer 11 bought bread and butter, then jam: the latest basket is jam, so milk (jam → milk) leads.
    ids, scores, reasons = model.recommend(11, n=1)
    assert list(ids) == [MILK]
    assert scores[0] == pytest.approx(1 / 3)
    assert reasons[0].code == "bought_with" and reasons[0].item_ids == (JAM,)
    assert reasons[0].detail == {"confidence": 0.3333, "lift": 1.1667}
    # Customer 15 bought bread: butter (0.75) before jam (0.25).
    ids, scores, reasons = model.recommend(15, n=2)
    assert list(ids) == [BUTTER, JAM]
    np.testing.assert_allclose(scores, [0.75, 0.25])
    assert (
        reasons[0].describe({BREAD: "食パン"}, lang="ja")
        == "食パンを購入したお客様の75%がこちらも購入しています"
    )


def test_undated_history_is_one_basket() -> None:
    model = FrequentlyBoughtTogether(min_support=1, min_confidence=0.0).fit(baskets())
    # Customer 14's undated bread and butter form one basket: jam scores its best rule, butter → jam (1/3).
    ids, scores, reasons = model.recommend(14, n=1)
    assert list(ids) == [JAM]
    assert scores[0] == pytest.approx(1 / 3)
    assert reasons[0].item_ids == (BUTTER,)


def test_similar_items_rank_by_confidence() -> None:
    model = FrequentlyBoughtTogether(min_support=1, min_confidence=0.0).fit(baskets())
    ids, scores, _ = model.similar_items(BREAD, n=2)
    assert list(ids) == [BUTTER, JAM]
    np.testing.assert_allclose(scores, [0.75, 0.25])


def test_rules_survive_save_and_load(tmp_path: Path) -> None:
    model = FrequentlyBoughtTogether(min_support=1, min_confidence=0.0).fit(baskets())
    loaded = Recommender.load(model.save(tmp_path / "together"))
    assert isinstance(loaded, FrequentlyBoughtTogether)
    assert loaded.n_baskets == 7
    assert loaded.rules(min_lift=0.0) == model.rules(min_lift=0.0)


def test_min_support_must_be_a_count() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FrequentlyBoughtTogether(min_support=0)
