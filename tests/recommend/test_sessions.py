"""Pairs of products one customer chose close in time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kizuna.recommend.evaluate.splits import Interactions
from kizuna.recommend.sessions import session_pairs


def timed(rows: list[tuple[int, int, float]]) -> Interactions:
    """Interactions from (customer, product, seconds) triples, in the order given."""
    user, item, time = zip(*rows, strict=True) if rows else ((), (), ())
    return Interactions(np.array(user), np.array(item), np.ones(len(rows)), np.array(time, dtype=float))


def test_pairs_count_by_closeness_in_time_and_only_within_a_customer() -> None:
    # Customer 0 chose products 0, 1, 2 at 0 s, 60 s and 120 s; customer 1 chose 0 and 3 at the same second
    # as customer 0's product 1, which must not pair across customers. Input deliberately out of order.
    data = timed([(0, 2, 120.0), (1, 3, 60.0), (0, 0, 0.0), (1, 0, 60.0), (0, 1, 60.0)])
    pairs = session_pairs(data, 4, seconds=60.0).toarray()
    expected = np.zeros((4, 4))
    for a, b, gap in ((0, 1, 60.0), (1, 2, 60.0), (0, 2, 120.0), (0, 3, 0.0)):
        expected[a, b] = expected[b, a] = math.exp(-gap / 60.0)
    np.testing.assert_allclose(pairs, expected)


def test_one_product_twice_and_untimed_choices_make_no_pairs() -> None:
    data = timed([(0, 1, 0.0), (0, 1, 5.0), (0, 2, float("nan"))])
    assert session_pairs(data, 3, seconds=60.0).nnz == 0


def test_pairs_beyond_the_horizon_or_the_lag_are_left_out() -> None:
    # Ten time scales apart is the last pair counted; a little more is not.
    near = session_pairs(timed([(0, 0, 0.0), (0, 1, 600.0)]), 2, seconds=60.0)
    far = session_pairs(timed([(0, 0, 0.0), (0, 1, 601.0)]), 2, seconds=60.0)
    assert near[0, 1] == pytest.approx(math.exp(-10.0)) and far.nnz == 0
    # Four choices at one moment: every pair with no lag limit, only neighbours with max_lag=1.
    burst = timed([(0, p, 0.0) for p in range(4)])
    assert session_pairs(burst, 4, seconds=60.0).nnz == 12
    assert session_pairs(burst, 4, seconds=60.0, max_lag=1).nnz == 6


def test_empty_input_gives_an_empty_matrix() -> None:
    pairs = session_pairs(timed([]), 5, seconds=60.0)
    assert pairs.shape == (5, 5) and pairs.nnz == 0


@pytest.mark.parametrize("seconds", [0.0, -1.0, float("nan")])
def test_refuses_a_time_scale_that_is_not_positive(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds must be a positive time scale"):
        session_pairs(timed([(0, 0, 0.0)]), 1, seconds=seconds)
