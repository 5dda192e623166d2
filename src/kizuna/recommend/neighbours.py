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
    Rows are handled one segment at a time: one global sort of tens of millions of pairs is several times
    slower than many small ones.
    """
    if len(rows) == 0 or k <= 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    grouped = rows[order]
    bounds = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1], True])
    kept: list[npt.NDArray[np.int64]] = []
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        segment = order[start:end]
        if end - start > k:
            if tie is None:
                best = np.argsort(-values[segment], kind="stable")[:k]
            else:
                best = np.lexsort((-tie[segment], -values[segment]))[:k]
            segment = segment[np.sort(best)]
        kept.append(segment)
    return np.concatenate(kept).astype(np.int64)
