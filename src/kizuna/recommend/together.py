"""Frequently bought together: association rules between products bought in the same basket.

A basket is one order. Training data carries no order ids, so the interactions of one customer with the
same timestamp form one basket (every line of an order shares the order's time); interactions whose time is
unknown (NaN) form one more basket per customer, their whole undated history.

For a rule A → B over ``N`` baskets: ``support = baskets with A and B / N``, ``confidence = baskets with A
and B / baskets with A`` and ``lift = confidence / (baskets with B / N)``, so lift above 1 means B is bought
with A more often than on its own. Rules need ``min_support`` baskets and ``min_confidence``; each product
keeps its ``neighbours`` most confident rules.

A customer is recommended what goes with their latest basket (a shipment flyer: what goes with what they
just bought): each product scores the best confidence of a rule from an item in that basket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.neighbours import top_per_row
from kizuna.recommend.reasons import Reason


@dataclass(frozen=True)
class Rule:
    """An association rule: customers who bought ``antecedent`` also bought ``consequent``.

    Attributes:
        antecedent: Product id bought first (the "if" side).
        consequent: Product id bought with it (the "then" side).
        support: Share of all baskets holding both.
        confidence: Share of the baskets with ``antecedent`` that also hold ``consequent``.
        lift: ``confidence`` divided by the share of baskets holding ``consequent``.
        baskets: Number of baskets holding both.
    """

    antecedent: int
    consequent: int
    support: float
    confidence: float
    lift: float
    baskets: int


class FrequentlyBoughtTogether(Recommender):
    """Association rules over baskets, recommended from each customer's latest basket.

    Args:
        min_support: baskets a pair must share to make a rule.
        min_confidence: smallest confidence a rule may have.
        neighbours: rules kept per antecedent, the most confident first.
    """

    name = "together"

    def __init__(self, min_support: int = 2, min_confidence: float = 0.05, neighbours: int = 100) -> None:
        super().__init__()
        if min_support < 1:
            raise ValueError(f"min_support is a number of baskets and must be at least 1, got {min_support}")
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.neighbours = neighbours
        self.pairs: sparse.csr_matrix | None = None
        self.confidence: sparse.csr_matrix | None = None
        self.item_baskets: FloatArray | None = None
        self.n_baskets: int = 0
        self.latest: sparse.csr_matrix | None = None

    def params(self) -> dict[str, Any]:
        return {
            "min_support": self.min_support,
            "min_confidence": self.min_confidence,
            "neighbours": self.neighbours,
        }

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        baskets, owner = _baskets(data)
        self.n_baskets = baskets.shape[0]
        self.item_baskets = np.asarray(baskets.sum(axis=0), dtype=np.float64).ravel()
        # The latest basket of each customer: baskets are ordered by (customer, time), undated ones first.
        last = np.flatnonzero(np.r_[owner[1:] != owner[:-1], True]) if len(owner) else np.empty(0, np.int64)
        picked = baskets[last].tocoo()
        self.latest = sparse.csr_matrix(
            (picked.data, (owner[last][picked.row], picked.col)), shape=(data.n_users, data.n_items)
        )
        counts = (baskets.T @ baskets).tocoo()
        keep = (counts.row != counts.col) & (counts.data >= self.min_support)
        row, col, both = counts.row[keep], counts.col[keep], counts.data[keep].astype(np.float64)
        conf = both / self.item_baskets[row]
        keep = conf >= self.min_confidence
        row, col, both, conf = row[keep], col[keep], both[keep], conf[keep]
        # Per antecedent, keep the most confident rules (ties: more baskets first).
        keep = top_per_row(row, conf, self.neighbours, tie=both)
        shape = (data.n_items, data.n_items)
        self.pairs = sparse.csr_matrix((both[keep], (row[keep], col[keep])), shape=shape)
        self.confidence = sparse.csr_matrix((conf[keep], (row[keep], col[keep])), shape=shape)

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.latest is not None and self.confidence is not None
        scores = np.zeros((len(rows), self.confidence.shape[1]))
        for k, row in enumerate(rows):
            basket = self.latest.indices[self.latest.indptr[row] : self.latest.indptr[row + 1]]
            if len(basket):
                scores[k] = self.confidence[basket].max(axis=0).toarray().ravel()
        return scores

    def _lift(self, confidence: FloatArray, consequent: IntArray) -> FloatArray:
        assert self.item_baskets is not None
        share = self.item_baskets[consequent] / max(self.n_baskets, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(share > 0, confidence / share, 0.0)

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.latest is not None and self.confidence is not None and self.product_ids is not None
        basket = self.latest.indices[self.latest.indptr[row] : self.latest.indptr[row + 1]]
        if len(basket) == 0:
            return [Reason("popular") for _ in items]
        block = np.asarray(self.confidence[basket][:, items].todense())
        best = block.max(axis=0)
        lift = self._lift(best, items)
        reasons = []
        for k in range(len(items)):
            if best[k] <= 0:
                reasons.append(Reason("popular"))
                continue
            driver = int(self.product_ids[basket[int(block[:, k].argmax())]])
            detail = {"confidence": round(float(best[k]), 4), "lift": round(float(lift[k]), 4)}
            reasons.append(Reason("bought_with", (driver,), detail))
        return reasons

    def _item_similarity(self, col: int) -> FloatArray:
        assert self.confidence is not None
        return np.asarray(self.confidence[col].todense(), dtype=np.float64).ravel()

    def rules(self, min_lift: float = 1.0, top: int = 100) -> list[Rule]:
        """The strongest rules with at least ``min_lift``, most confident first (then lift, then support).

        Args:
            min_lift: smallest lift kept; 1.0 drops pairs bought together no more often than by chance.
            top: most rules returned.

        Returns:
            Rules between product ids, for bundles and cross-sell placements.
        """
        product_ids = self._fitted()[0]
        assert self.pairs is not None and self.confidence is not None
        pairs, conf = self.pairs.tocoo(), self.confidence.tocoo()
        lift = self._lift(conf.data, conf.col)
        keep = lift >= min_lift
        row, col, both, confidence, lift = (
            conf.row[keep],
            conf.col[keep],
            pairs.data[keep],
            conf.data[keep],
            lift[keep],
        )
        order = np.lexsort((-both, -lift, -confidence))[: max(top, 0)]
        n = max(self.n_baskets, 1)
        return [
            Rule(
                antecedent=int(product_ids[row[i]]),
                consequent=int(product_ids[col[i]]),
                support=float(both[i] / n),
                confidence=float(confidence[i]),
                lift=float(lift[i]),
                baskets=int(both[i]),
            )
            for i in order
        ]

    def _state(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "confidence": self.confidence,
            "item_baskets": self.item_baskets,
            "n_baskets": np.array(self.n_baskets),
            "latest": self.latest,
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.pairs = state["pairs"]
        self.confidence = state["confidence"]
        self.item_baskets = state["item_baskets"]
        self.n_baskets = int(state["n_baskets"])
        self.latest = state["latest"]


def _baskets(data: TrainingData) -> tuple[sparse.csr_matrix, IntArray]:
    """Baskets × items (1 where the basket holds the item) and the customer row owning each basket.

    Baskets are numbered in (customer, time) order, undated interactions first within a customer.
    """
    inter = data.interactions
    time = np.where(np.isnan(inter.time), -np.inf, inter.time)
    order = np.lexsort((time, inter.user))
    user, when, item = inter.user[order], time[order], inter.item[order]
    new = np.r_[True, (user[1:] != user[:-1]) | (when[1:] != when[:-1])] if len(user) else np.empty(0, bool)
    basket = np.cumsum(new) - 1
    matrix = sparse.csr_matrix(
        (np.ones(len(item)), (basket, item)), shape=(int(new.sum()), data.n_items), dtype=np.float64
    )
    matrix.sum_duplicates()
    matrix.data = np.ones_like(matrix.data)
    return matrix, user[new].astype(np.int64)
