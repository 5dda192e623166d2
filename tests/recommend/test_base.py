"""Top-n selection shared by every recommender (``kizuna.recommend.base._top``)."""

from __future__ import annotations

import numpy as np
import pytest

from kizuna.recommend.base import _top


def _reference(scores: np.ndarray, n: int) -> np.ndarray:
    """The n best finite scores by a full sort: highest first, lower index first among ties."""
    finite = np.flatnonzero(np.isfinite(scores))
    order = np.lexsort((finite, -scores[finite]))
    return finite[order][:n]


@pytest.mark.parametrize("size", [7, 4_096, 50_000, 70_001])
@pytest.mark.parametrize("n", [1, 10, 50])
def test_top_matches_a_full_sort(size: int, n: int) -> None:
    rng = np.random.default_rng(size + n)
    for variant in range(6):
        scores = rng.standard_normal(size)
        if variant == 1:
            scores = np.round(scores, 1)  # many ties
        if variant == 2:
            scores[rng.random(size) < 0.95] = -np.inf  # most products excluded
        if variant == 3:
            scores[:] = -np.inf
            scores[rng.integers(0, size, 3)] = 1.0  # fewer finite scores than n
        if variant == 4:
            scores = np.zeros(size)  # everything tied
        if variant == 5:
            scores = np.sort(scores)  # the best all in the last block
        got = _top(scores, n)
        want = _reference(scores, n)
        assert got.tolist() == want.tolist()


def test_top_breaks_ties_by_lower_index_within_the_list() -> None:
    scores = np.zeros(10_000)
    scores[[9_000, 5, 700]] = 2.0
    assert _top(scores, 2).tolist() == [5, 700]
    assert _top(scores, 3).tolist() == [5, 700, 9_000]


def test_top_of_nothing() -> None:
    assert _top(np.array([]), 5).tolist() == []
    assert _top(np.full(100_000, -np.inf), 5).tolist() == []
    assert _top(np.arange(10.0), 0).tolist() == []


def test_top_keeps_the_lowest_indexes_among_ties_at_the_cut() -> None:
    rng = np.random.default_rng(3)
    for size in (50, 50_000):
        scores = np.zeros(size)
        ones = rng.choice(size, 30, replace=False)
        scores[ones] = 1.0
        assert _top(scores, 10).tolist() == sorted(ones.tolist())[:10]
