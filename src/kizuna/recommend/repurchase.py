"""Repurchase ("buy it again"): what each customer bought before, weighted by how often and how recently.

In groceries, cosmetics and other replenished goods, most of what a customer buys next is something they
bought before; a customer's own history, with older purchases fading, predicts it better than any model of
other customers (``benchmarks/recommend_completejourney.py``). It only ranks products the customer already
has, so it needs ``exclude_seen=False``; with seen products excluded it falls back to popularity. In the
blend it covers replenishment while a collaborative model covers discovery.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason

#: Popularity breaks ties among products a customer never bought; small enough never to outrank a purchase.
_TIE_BREAK = 1e-6


class Repurchase(Recommender):
    """Args:
    half_life_days: a purchase this many days before the newest one in the data counts half; None counts
        every purchase fully. Interactions without a time count fully.
    """

    name = "repurchase"

    def __init__(self, half_life_days: float | None = 90.0) -> None:
        super().__init__()
        self.half_life_days = half_life_days
        self.history: sparse.csr_matrix | None = None
        self.counts: sparse.csr_matrix | None = None
        self._tie: FloatArray | None = None

    def params(self) -> dict[str, Any]:
        return {"half_life_days": self.half_life_days}

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        inter = data.interactions
        weight = inter.weight.astype(np.float64)
        if self.half_life_days is not None:
            weight = weight * inter.decay(self.half_life_days)
        shape = (data.n_users, data.n_items)
        self.history = sparse.csr_matrix((weight, (inter.user, inter.item)), shape=shape)
        self.counts = sparse.csr_matrix((np.ones(len(inter.item)), (inter.user, inter.item)), shape=shape)

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.history is not None and self.popularity is not None
        if self._tie is None:
            self._tie = _TIE_BREAK * self.popularity / max(float(self.popularity.max(initial=0.0)), 1.0)
        scores = np.tile(self._tie, (len(rows), 1))
        indptr, indices, data = self.history.indptr, self.history.indices, self.history.data
        for k, row in enumerate(rows.tolist()):  # sparse rows: only the customer's own products change
            span = slice(indptr[row], indptr[row + 1])
            scores[k, indices[span]] += np.log1p(data[span])
        return scores

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.counts is not None
        # Read from the row's own entries: scipy's fancy indexing costs 0.3 ms a call on the serving path.
        span = slice(self.counts.indptr[row], self.counts.indptr[row + 1])
        times = dict(zip(self.counts.indices[span].tolist(), self.counts.data[span].tolist(), strict=True))
        counts = [times.get(item, 0.0) for item in items.tolist()]
        return [
            Reason("bought_before", detail={"times": int(c)}) if c > 0 else Reason("popular") for c in counts
        ]

    def _state(self) -> dict[str, Any]:
        return {"history": self.history, "counts": self.counts}

    def _restore(self, state: dict[str, Any]) -> None:
        self.history = state["history"]
        self.counts = state["counts"]
