"""Popularity: the products most customers chose. The baseline every model must beat, and the cold-start
fallback.

Three flavours: overall (distinct customers per product), trending (recent interactions count more) and per
category (``per_category``: each customer's own categories first, by the share of their choices in each, then
the most popular products within them). For the best sellers of one category, pass that category's products
as ``candidates``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
from scipy import sparse
from sqlalchemy import select

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason
from kizuna.store.engine import Store
from kizuna.store.tables import Product

#: How far popularity weighs against a customer's category share: a tie-break within one share.
_WITHIN = 1e-3


def category_prefix(path: str, depth: int) -> str:
    """The first ``depth`` levels of a category path ("Food/Coffee/Beans" → "Food/Coffee" for 2)."""
    for separator in (">", "|", "›", "\\"):
        path = path.replace(separator, "/")
    levels = [p.strip() for p in path.split("/") if p.strip()]
    return "/".join(levels[:depth])


class Popularity(Recommender):
    """Ranks products by how many distinct customers interacted with them.

    Args:
        half_life_days: when set, recent interactions count more ("trending"): an interaction this many
            days before the newest one counts half. Interactions without a time count fully.
        per_category: rank each known customer's own categories first (needs ``categories``).
        depth: category levels that make one category for ``per_category``.
        categories: product id → category path (``from_store`` reads them).
    """

    name = "popularity"

    def __init__(
        self,
        half_life_days: float | None = None,
        per_category: bool = False,
        depth: int = 2,
        categories: Mapping[int, str] | None = None,
    ) -> None:
        super().__init__()
        self.half_life_days = half_life_days
        self.per_category = per_category
        self.depth = depth
        self.categories = categories
        self.item_scores: FloatArray | None = None
        self.category_of: IntArray | None = None
        self.category_names: np.ndarray[Any, np.dtype[np.str_]] | None = None
        self.shares: sparse.csr_matrix | None = None

    @classmethod
    def from_store(cls, store: Store, **params: Any) -> Self:
        """A model that reads product categories from ``store`` when it ranks per category."""
        if not params.get("per_category"):
            return cls(**params)
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(Product.id, Product.category_path).where(Product.category_path.is_not(None))
            )
            categories = {int(pid): str(path) for pid, path in rows}
        return cls(categories=categories, **params)

    def params(self) -> dict[str, Any]:
        return {"half_life_days": self.half_life_days, "per_category": self.per_category, "depth": self.depth}

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        assert self.popularity is not None and self.seen is not None
        if self.half_life_days is None:
            self.item_scores = self.popularity.copy()
        else:
            decay = data.interactions.decay(self.half_life_days)
            scores = np.bincount(data.interactions.item, weights=decay, minlength=data.n_items)
            self.item_scores = np.asarray(scores, dtype=np.float64)
        if self.per_category:
            if not self.categories:
                raise ValueError(
                    "per-category popularity needs product categories: pass categories={product_id: path} "
                    "or build it with Popularity.from_store(store, per_category=True)"
                )
            self._fit_categories(data.product_ids)

    def _fit_categories(self, product_ids: IntArray) -> None:
        assert self.categories is not None and self.seen is not None
        labels = [category_prefix(self.categories.get(int(p), ""), self.depth) for p in product_ids.tolist()]
        names = sorted({label for label in labels if label})
        code = {name: k for k, name in enumerate(names)}
        self.category_names = np.array(names, dtype=str)
        self.category_of = np.array([code.get(label, -1) for label in labels], dtype=np.int64)
        known = np.flatnonzero(self.category_of >= 0)
        to_category = sparse.csr_matrix(
            (np.ones(len(known)), (known, self.category_of[known])), shape=(len(product_ids), len(names))
        )
        counts = sparse.csr_matrix(self.seen @ to_category)
        totals = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        self.shares = sparse.csr_matrix(sparse.diags(1.0 / np.maximum(totals, 1.0)) @ counts)

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.item_scores is not None
        scores = np.tile(self.item_scores, (len(rows), 1))
        if self.shares is None or self.category_of is None:
            return scores
        top = max(float(self.item_scores.max(initial=0.0)), 1e-12)
        share = np.asarray(self.shares[rows].todense(), dtype=np.float64)
        padded = np.hstack([share, np.zeros((len(rows), 1))])  # column -1: products without a category
        return padded[:, self.category_of] + _WITHIN * scores / top

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        if self.shares is None or self.category_of is None or self.category_names is None:
            return [Reason("popular") for _ in items]
        share = np.asarray(self.shares[row].todense(), dtype=np.float64).ravel()
        reasons = []
        for item in items.tolist():
            cat = int(self.category_of[item])
            if cat >= 0 and share[cat] > 0:
                reasons.append(
                    Reason("popular_in_category", detail={"category": str(self.category_names[cat])})
                )
            else:
                reasons.append(Reason("popular"))
        return reasons

    def _fallback_scores(self) -> FloatArray:
        assert self.item_scores is not None
        return self.item_scores

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"item_scores": self.item_scores}
        if self.shares is not None:
            state |= {
                "category_of": self.category_of,
                "category_names": self.category_names,
                "shares": self.shares,
            }
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        self.item_scores = state["item_scores"]
        if "shares" in state:
            self.category_of = state["category_of"]
            self.category_names = state["category_names"]
            self.shares = state["shares"]
