"""EASE: a linear item-item model with a closed-form solution (Steck, "Embarrassingly Shallow Autoencoders
for Sparse Data", WWW 2019).

B = I − P · diag(1 / diag(P)) with P = (XᵀX + λI)⁻¹ and a zero diagonal. Strong on catalogues up to a few
tens of thousands of products; it needs a dense items × items matrix, so larger catalogues are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason


class EASE(Recommender):
    """Args:
    regularisation: λ, the L2 penalty (larger for denser data).
    max_items: refuse catalogues above this size (memory grows with its square).
    """

    name = "ease"

    def __init__(self, regularisation: float = 250.0, max_items: int = 30_000) -> None:
        super().__init__()
        self.regularisation = regularisation
        self.max_items = max_items
        self.weights: FloatArray | None = None

    def params(self) -> dict[str, Any]:
        return {"regularisation": self.regularisation, "max_items": self.max_items}

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        assert self.seen is not None
        n = data.n_items
        if n > self.max_items:
            raise ValueError(
                f"EASE needs a dense {n:,} × {n:,} matrix: above max_items={self.max_items:,}; "
                "use cooccurrence or a factorisation model for a catalogue this large"
            )
        gram = np.asarray((self.seen.T @ self.seen).todense(), dtype=np.float64)
        gram[np.diag_indices(n)] += self.regularisation
        p = np.linalg.inv(gram)
        b = p / (-np.diag(p))
        b[np.diag_indices(n)] = 0.0
        self.weights = b

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.seen is not None and self.weights is not None
        return np.asarray(self.seen[rows] @ self.weights, dtype=np.float64)

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.seen is not None and self.weights is not None and self.product_ids is not None
        chosen = self.seen.indices[self.seen.indptr[row] : self.seen.indptr[row + 1]]
        if len(chosen) == 0:
            return [Reason("popular") for _ in items]
        block = self.weights[np.ix_(chosen, items)]
        reasons = []
        for k in range(len(items)):
            top = np.argsort(-block[:, k])[:2]
            drivers = tuple(int(self.product_ids[chosen[t]]) for t in top if block[t, k] > 0)
            reasons.append(Reason("taste", drivers) if drivers else Reason("popular"))
        return reasons

    def _item_similarity(self, col: int) -> FloatArray:
        assert self.weights is not None
        return np.asarray(self.weights[col], dtype=np.float64).copy()

    def _state(self) -> dict[str, Any]:
        return {"weights": self.weights}

    def _restore(self, state: dict[str, Any]) -> None:
        self.weights = state["weights"]
