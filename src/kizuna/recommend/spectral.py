"""Spectral: an ideal low-pass filter on the product graph (Shen et al., "How Powerful is Graph Convolution
for Recommendation?", CIKM 2021, the low-pass part of GF-CF).

The customers × products matrix X is normalised by degree, R = D_c^-1/2 X D_p^-1/2, and its top
``components`` right singular vectors V are the smoothest signals on the product graph: broad tastes
(family films, new releases, a cuisine) rather than single co-purchases. A customer's scores are their
choices passed through that filter, ``X_u D_p^-1/2 V Vᵀ D_p^1/2``. It needs no iterations and no tuning
beyond the number of components, scales with a sparse truncated SVD to catalogues far beyond EASE's dense
limit, and finds what the item-item models miss: in the default blend on MovieLens-100k it adds to EASE and
ALS (``benchmarks/recommend_movielens.py``).

Scoring is a product of small factors, as in matrix factorisation: customer factors ``X D_p^-1/2 V`` and
product factors ``D_p^1/2 V``. The reason for a recommendation names the customer's chosen products closest
to it through the filter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

from kizuna.recommend.base import FloatArray, IntArray
from kizuna.recommend.data import TrainingData
from kizuna.recommend.factors import FactorModel
from kizuna.recommend.reasons import Reason, taste_reasons

#: Catalogues up to this size are decomposed through their dense products × products matrix.
DENSE_PRODUCTS = 512


class Spectral(FactorModel):
    """Args:
    components: singular vectors kept (the filter's pass band); fewer keeps only the broadest tastes.
    seed: start vector of the truncated SVD, so training is reproducible.
    """

    name = "spectral"

    def __init__(self, components: int = 32, seed: int = 42) -> None:
        super().__init__()
        if components < 1:
            raise ValueError(f"components must be at least 1, got {components}")
        self.components = components
        self.seed = seed
        self.item_inputs: FloatArray | None = None

    def params(self) -> dict[str, Any]:
        return {"components": self.components, "seed": self.seed}

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        assert self.seen is not None
        x = sparse.csr_matrix(self.seen, dtype=np.float64)
        user_degree = np.asarray(x.sum(axis=1)).ravel()
        item_degree = np.asarray(x.sum(axis=0)).ravel()
        inv_user = 1.0 / np.sqrt(np.maximum(user_degree, 1.0))
        inv_item = np.where(item_degree > 0, 1.0 / np.sqrt(np.maximum(item_degree, 1.0)), 0.0)
        normalised = sparse.diags(inv_user) @ x @ sparse.diags(inv_item)
        vectors = self._top_right_vectors(sparse.csr_matrix(normalised))
        # Items nobody chose have no degree: they neither pass a signal in nor receive one.
        self.item_inputs = np.asarray(vectors * inv_item[:, None], dtype=np.float32)
        self._set_factors(x @ self.item_inputs, vectors * np.sqrt(item_degree)[:, None])

    def _top_right_vectors(self, normalised: sparse.csr_matrix) -> FloatArray:
        """The top ``components`` right singular vectors (products × components), largest first.

        Up to :data:`DENSE_PRODUCTS` products, from the eigenvectors of the small products × products matrix
        RᵀR, whatever the number of customers; beyond, by a truncated sparse SVD (ARPACK); and when the
        components asked for reach the number of customers, from the customers × customers matrix RRᵀ.
        """
        n_users, n_items = normalised.shape
        k = min(self.components, n_users, n_items)
        if n_items <= DENSE_PRODUCTS:
            values, vectors = np.linalg.eigh((normalised.T @ normalised).toarray())
            return np.asarray(vectors[:, np.argsort(-values)[:k]], dtype=np.float64)
        if k < min(n_users, n_items) - 1:
            start = np.random.default_rng(self.seed).uniform(-1.0, 1.0, min(n_users, n_items))
            _, singular, vt = svds(normalised, k=k, v0=start, solver="arpack")
            return np.asarray(vt[np.argsort(-singular)].T, dtype=np.float64)
        values, left = np.linalg.eigh((normalised @ normalised.T).toarray())
        order = np.argsort(-values)[:k]
        kept = values[order] > 1e-12 * max(float(values.max()), 1e-300)
        # v = Rᵀu / σ for each left vector u with a non-zero singular value σ.
        right = normalised.T @ left[:, order[kept]] / np.sqrt(values[order[kept]])
        return np.asarray(right, dtype=np.float64)

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.product_ids is not None
        _, outputs = self._factors()
        if self.item_inputs is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit() or load() first")
        chosen = self._chosen(row)
        if len(chosen) == 0:
            return [Reason("popular") for _ in items]
        # Each chosen product's share of an item's score: its input through the filter to that item.
        share = self.item_inputs[chosen] @ outputs[items].T
        return taste_reasons(share, chosen, self.product_ids)

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "item_inputs": self.item_inputs}

    def _restore(self, state: dict[str, Any]) -> None:
        super()._restore(state)
        self.item_inputs = np.asarray(state["item_inputs"], dtype=np.float32)
