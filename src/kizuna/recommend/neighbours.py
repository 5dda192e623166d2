"""Keeping each product's strongest partners: the pruning every item-to-item model shares."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def top_per_row(
    rows: npt.NDArray[np.integer],
    values: npt.NDArray[np.floating],
    k: int,
    *,
    tie: npt.NDArray[np.floating] | None = None,
) -> npt.NDArray[np.int64]:
    """Positions of the ``k`` largest ``values`` within each row of a (row, value) list, grouped by row.

    Ties are broken by ``tie`` (larger first) when given, then by position, so the result is deterministic.
    """
    if len(rows) == 0 or k <= 0:
        return np.empty(0, dtype=np.int64)
    positions = np.arange(len(rows))
    keys = (positions, -values, rows) if tie is None else (positions, -tie, -values, rows)
    order = np.lexsort(keys)
    ordered_rows = rows[order]
    first = np.searchsorted(ordered_rows, ordered_rows, side="left")
    return order[np.arange(len(order)) - first < k].astype(np.int64)
