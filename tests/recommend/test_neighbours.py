from __future__ import annotations

import numpy as np

from kizuna.recommend.neighbours import top_per_row


def test_keeps_the_k_largest_per_row_with_deterministic_ties() -> None:
    rows = np.array([0, 0, 0, 1, 1, 2])
    values = np.array([0.1, 0.9, 0.5, 0.3, 0.3, 0.7])
    kept = top_per_row(rows, values, 2)
    assert sorted(kept.tolist()) == [1, 2, 3, 4, 5]
    assert top_per_row(rows, values, 1).tolist() == [1, 3, 5]  # row 1's tie goes to the first position
    tie = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 0.0])
    assert top_per_row(rows, values, 1, tie=tie).tolist() == [1, 4, 5]
    assert top_per_row(rows[:0], values[:0], 3).tolist() == []
