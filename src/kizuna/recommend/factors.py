"""What models that score by factors share: a vector per customer and per product, whose dot product is
the score (ALS and BPR, the spectral filter).

The factors are kept in float32, as they are learnt: scoring reads every product's factors, so half the
bytes is half the time. The product factors are also kept transposed and contiguous, so that one customer's
row times them streams through memory in order: 0.18 ms against 0.50 ms for 50,000 × 64 factors between
other work (``benchmarks/recommend_serving.py``), where the transposed product reads across rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from kizuna.recommend.base import FloatArray, IntArray, Recommender, cosine_to


class FactorModel(Recommender):
    """A recommender whose scores are ``user_factors[row] · item_factors[col]``; subclasses fit them and
    hand them to :meth:`_set_factors`."""

    def __init__(self) -> None:
        super().__init__()
        self.user_factors: FloatArray | None = None
        self.item_factors: FloatArray | None = None
        self._columns: FloatArray | None = None  # item_factors transposed, contiguous

    def _set_factors(self, users: npt.ArrayLike, items: npt.ArrayLike) -> None:
        self.user_factors = np.asarray(users, dtype=np.float32)
        self.item_factors = np.asarray(items, dtype=np.float32)
        self._columns = np.ascontiguousarray(self.item_factors.T)

    def _factors(self) -> tuple[FloatArray, FloatArray]:
        if self.user_factors is None or self.item_factors is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit() or load() first")
        return self.user_factors, self.item_factors

    def _score(self, rows: IntArray) -> FloatArray:
        users, _ = self._factors()
        assert self._columns is not None
        # float32, as the factors: widening would add a pass over the row and nothing of value (callers
        # that mix it with float64 scores widen it exactly).
        scores: FloatArray = users[rows] @ self._columns
        return scores

    def _chosen(self, row: int) -> IntArray:
        """The product columns the customer of ``row`` chose."""
        assert self.seen is not None
        chosen: IntArray = self.seen.indices[self.seen.indptr[row] : self.seen.indptr[row + 1]]
        return chosen

    def _item_similarity(self, col: int) -> FloatArray:
        _, items = self._factors()
        return cosine_to(items, col)

    def _state(self) -> dict[str, Any]:
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def _restore(self, state: dict[str, Any]) -> None:
        self._set_factors(state["user_factors"], state["item_factors"])
