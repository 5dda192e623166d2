"""Item-to-item co-occurrence: "customers who bought this also bought".

Each pair of products is scored by how many customers chose both, normalised by cosine (so best-sellers do not
drown everything); only each product's ``neighbours`` strongest partners are kept, which keeps the model
sparse enough for catalogues of 100,000 products. A customer's score for a product is the sum of its
similarity to what they chose; the reason names the chosen product that contributed most.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.neighbours import top_per_row
from kizuna.recommend.reasons import Reason

#: Products whose partners are computed at once while fitting.
BLOCK_ITEMS = 2_000


class ItemCooccurrence(Recommender):
    """Item-kNN on co-occurrence counts with cosine normalisation.

    Args:
        neighbours: partners kept per product.
        shrink: added to the cosine denominator so pairs seen by few customers count less.
    """

    name = "cooccurrence"

    def __init__(self, neighbours: int = 100, shrink: float = 10.0) -> None:
        super().__init__()
        self.neighbours = neighbours
        self.shrink = shrink
        self.similarity: sparse.csr_matrix | None = None

    def params(self) -> dict[str, Any]:
        return {"neighbours": self.neighbours, "shrink": self.shrink}

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        assert self.seen is not None and self.popularity is not None
        items = self.seen.T.tocsr().astype(np.float64)
        users_items = self.seen.astype(np.float64).tocsc()
        # Block by block, so the full items × items product (billions of pairs on a grocery catalogue) is
        # never held at once: each block keeps only its rows' strongest partners.
        blocks = []
        for start in range(0, data.n_items, BLOCK_ITEMS):
            rows = items[start : start + BLOCK_ITEMS]
            counts = (rows @ users_items).tocoo()
            keep = counts.row + start != counts.col
            r, c, v = counts.row[keep], counts.col[keep], counts.data[keep]
            norm = np.sqrt(self.popularity[r + start] * self.popularity[c]) + self.shrink
            kept = top_per_row(r, v / norm, self.neighbours)
            shape = (rows.shape[0], data.n_items)
            blocks.append(sparse.csr_matrix(((v / norm)[kept], (r[kept], c[kept])), shape=shape))
        self.similarity = sparse.vstack(blocks, format="csr") if blocks else sparse.csr_matrix((0, 0))

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.seen is not None and self.similarity is not None
        return np.asarray((self.seen[rows] @ self.similarity).todense(), dtype=np.float64)

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.seen is not None and self.similarity is not None and self.product_ids is not None
        chosen = self.seen.indices[self.seen.indptr[row] : self.seen.indptr[row + 1]]
        if len(chosen) == 0:
            return [Reason("popular") for _ in items]
        block = np.asarray(self.similarity[chosen][:, items].todense())
        reasons = []
        for k in range(len(items)):
            if block[:, k].max() <= 0:
                reasons.append(Reason("popular"))
            else:
                driver = int(self.product_ids[chosen[int(block[:, k].argmax())]])
                reasons.append(Reason("also_bought", (driver,)))
        return reasons

    def _item_similarity(self, col: int) -> FloatArray:
        assert self.similarity is not None
        return np.asarray(self.similarity[col].todense(), dtype=np.float64).ravel()

    def _state(self) -> dict[str, Any]:
        return {"similarity": self.similarity}

    def _restore(self, state: dict[str, Any]) -> None:
        self.similarity = state["similarity"]
