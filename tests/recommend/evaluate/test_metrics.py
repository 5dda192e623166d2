"""Ranking and catalogue metrics: truth against itself, no hits, and values computed by hand."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence

import numpy as np
import pytest

from kizuna.recommend.evaluate.metrics import (
    catalog_coverage,
    evaluate_lists,
    map_at_k,
    ndcg_at_k,
    ndcg_of_hits,
    novelty,
    precision_at_k,
    recall_at_k,
)

Metric = Callable[[Sequence[Sequence[int]], Sequence[Collection[int]], int], float]
RANKING = [precision_at_k, recall_at_k, ndcg_at_k, map_at_k]

# Two users with relevant items and one without (who must be left out of every mean).
# User 0: hits at ranks 2 and 5, three relevant items. User 1: a hit at rank 1, one relevant item.
RECOMMENDED = [[1, 2, 3, 4, 5], [7, 8], [1, 2]]
RELEVANT: list[set[int]] = [{2, 5, 9}, {7}, set()]


@pytest.mark.parametrize("metric", RANKING)
def test_truth_against_itself_scores_one(metric: Metric) -> None:
    # Every user has exactly k relevant items, so precision can reach 1 too.
    relevant = [{3, 1, 4}, {10, 11, 12}]
    recommended = [sorted(items) for items in relevant]
    assert metric(recommended, relevant, 3) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", RANKING)
def test_no_hits_scores_zero(metric: Metric) -> None:
    assert metric([[1, 2, 3], [4]], [{9}, {8, 7}], 3) == 0.0


@pytest.mark.parametrize("metric", RANKING)
def test_no_user_with_relevant_items_scores_zero(metric: Metric) -> None:
    assert metric([[1, 2]], [set()], 2) == 0.0
    assert metric([], [], 2) == 0.0


def test_precision_by_hand() -> None:
    # User 0: 2 hits / k=5 = 0.4; user 1: 1 hit / 5 = 0.2; mean 0.3.
    assert precision_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx(0.3)


def test_precision_divides_by_k_even_for_short_lists() -> None:
    # One hit in a list of one, k=4: 1/4, not 1/1.
    assert precision_at_k([[7]], [{7}], 4) == pytest.approx(0.25)


def test_recall_by_hand() -> None:
    # User 0: 2 of 3 relevant found; user 1: 1 of 1; mean (2/3 + 1) / 2 = 5/6.
    assert recall_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx(5 / 6)


def test_recall_cuts_at_k() -> None:
    # k=2 keeps [1, 2] for user 0: one hit of 3 relevant; user 1 still 1; mean (1/3 + 1) / 2 = 2/3.
    assert recall_at_k(RECOMMENDED, RELEVANT, 2) == pytest.approx(2 / 3)


def test_ndcg_by_hand() -> None:
    # User 0: DCG = 1/log2(3) + 1/log2(6) = 0.630930 + 0.386853 = 1.017783;
    # ideal DCG over min(3, 5) = 3 hits = 1 + 0.630930 + 0.5 = 2.130930; nDCG = 0.477624.
    # User 1: hit at rank 1 with one relevant item, nDCG = 1. Mean = 0.738812.
    user0 = (1 / math.log2(3) + 1 / math.log2(6)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    assert user0 == pytest.approx(0.477624, abs=1e-6)
    assert ndcg_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx((user0 + 1) / 2)
    assert ndcg_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx(0.738812, abs=1e-6)


def test_ndcg_ideal_is_capped_at_k() -> None:
    # Three relevant items, k=2, both slots hit: DCG equals the ideal over min(3, 2) = 2 ranks, so 1.
    assert ndcg_at_k([[5, 6]], [{5, 6, 7}], 2) == pytest.approx(1.0)


def test_map_by_hand() -> None:
    # User 0: hits at ranks 2 and 5 give precisions 1/2 and 2/5; (0.5 + 0.4) / min(3, 5) = 0.3.
    # User 1: precision 1/1 at rank 1, / min(1, 5) = 1. Mean (0.3 + 1) / 2 = 0.65.
    assert map_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx(0.65)


def test_map_divides_by_min_of_relevant_and_k() -> None:
    # Three relevant, k=2, hits at ranks 1 and 2: (1/1 + 2/2) / min(3, 2) = 1.0.
    # Older Microsoft Recommenders releases divided by |relevant| and gave 2/3 here.
    assert map_at_k([[1, 2]], [{1, 2, 3}], 2) == pytest.approx(1.0)


def test_repeated_item_counts_once() -> None:
    # [4, 4, 5] with relevant {4}: one hit at rank 1, precision@3 = 1/3, not 2/3.
    assert precision_at_k([[4, 4, 5]], [{4}], 3) == pytest.approx(1 / 3)
    assert map_at_k([[4, 4, 5]], [{4}], 3) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", RANKING)
def test_bad_arguments_are_refused(metric: Metric) -> None:
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        metric([[1]], [{1}], 0)
    with pytest.raises(ValueError, match="recommended has 2 lists but relevant has 1"):
        metric([[1], [2]], [{1}], 1)


def test_coverage() -> None:
    assert catalog_coverage([[0, 1, 2], [3]], 4) == 1.0
    assert catalog_coverage([[], []], 4) == 0.0
    # Items 0, 1, 2 appear (1 twice) in a catalogue of 10: 3/10.
    assert catalog_coverage([[0, 1], [1, 2]], 10) == pytest.approx(0.3)


def test_coverage_refuses_items_outside_the_catalogue() -> None:
    with pytest.raises(ValueError, match="item id 10 is outside the catalogue of 10 items"):
        catalog_coverage([[1, 10]], 10)
    with pytest.raises(ValueError, match="n_items must be the positive size"):
        catalog_coverage([[1]], 0)


def test_novelty_by_hand() -> None:
    # Four users; item shares p = 4/4, 2/4, 1/4 and 0 (unseen, takes the smallest positive share, 1/4).
    # Self-information: 0, 1, 2 and 2 bits; mean over the four slots = 5/4.
    popularity = np.array([4, 2, 1, 0])
    assert novelty([[0, 1], [2, 3]], popularity, 4) == pytest.approx(1.25)


def test_novelty_extremes() -> None:
    # Only an item everybody had: 0 bits. Nothing recommended: 0.0.
    assert novelty([[0], [0]], np.array([4, 1]), 4) == 0.0
    assert novelty([[], []], np.array([4, 1]), 4) == 0.0
    # Nothing was ever seen: every item takes p = 1/n_users = 1/8, so 3 bits.
    assert novelty([[0, 1]], np.array([0, 0]), 8) == pytest.approx(3.0)


def test_novelty_refuses_bad_popularity() -> None:
    with pytest.raises(ValueError, match="between 0 and n_users=4"):
        novelty([[0]], np.array([5]), 4)
    with pytest.raises(ValueError, match="n_users must be the positive number"):
        novelty([[0]], np.array([1]), 0)
    with pytest.raises(ValueError, match="item id 3 is outside the catalogue of 2 items"):
        novelty([[3]], np.array([1, 1]), 4)


def test_evaluate_lists_keys_and_cut_at_k() -> None:
    # k=2 keeps [1, 2] and [7, 8]: item 3, 4 and 5 must not count towards coverage or novelty.
    result = evaluate_lists(RECOMMENDED, RELEVANT, 2, n_items=10, item_popularity=np.full(10, 2), n_users=4)
    assert list(result) == ["ndcg@2", "precision@2", "recall@2", "map@2", "coverage", "novelty"]
    # User 0 hits at rank 2 of [1, 2]; user 1 at rank 1 of [7, 8].
    assert result["precision@2"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert result["recall@2"] == pytest.approx((1 / 3 + 1) / 2)
    assert result["map@2"] == pytest.approx(((1 / 2) / 2 + 1) / 2)
    assert result["ndcg@2"] == pytest.approx(((1 / math.log2(3)) / (1 + 1 / math.log2(3)) + 1) / 2)
    # Distinct items in the cut lists: 1, 2, 7, 8.
    assert result["coverage"] == pytest.approx(4 / 10)
    # Every item had by 2 of 4 users: 1 bit each.
    assert result["novelty"] == pytest.approx(1.0)


def test_ndcg_of_hits_counts_short_lists_against_the_ideal_at_k() -> None:
    # One relevant product found at rank 1 of a one-item list, three relevant: the ideal at k = 3 holds three.
    expected = 1.0 / (1.0 + 1.0 / math.log2(3) + 0.5)
    assert ndcg_of_hits([[1.0]], [3], 3) == pytest.approx(expected)
    assert ndcg_of_hits([[1.0]], [3], 3) == pytest.approx(ndcg_at_k([[7]], [{7, 8, 9}], 3))
    # Users with nothing relevant are left out; none at all scores 0.
    assert ndcg_of_hits([[1.0, 1.0], [0.0, 0.0]], [2, 0], 2) == 1.0
    assert ndcg_of_hits([[0.0]], [0], 1) == 0.0
    with pytest.raises(ValueError, match="at least 1"):
        ndcg_of_hits([[1.0]], [1], 0)
