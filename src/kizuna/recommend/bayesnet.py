"""Bayesian network: who buys in which category, learnt as a graph over customer, behaviour and item evidence.

One training row per (customer, cell), a cell being a product category and a price band within it. Each row
holds the customer's attributes (age band, gender, region, or any other field), their behaviour (recency,
frequency and spend bands, favourite category), the cell's category and price band, and the target: did the
customer choose anything in that cell. When the grid of customers × cells is larger than ``max_rows``, every
positive row is kept and negatives are sampled. The structure over these variables is learnt with
hill-climbing search under the BIC score (pgmpy); the only edge imposed is category → target, and edges
between customer and item variables are ruled out, as they are independent by construction of the grid.

A customer's score for a product is P(target | their evidence, the product's cell) × P(product | a choice in
the cell), the share of the cell's customers who chose the product: where the network knows nothing about a
customer the ranking is plain popularity, and the evidence moves whole cells up or down. Customers who share
all evidence share one computation. The reason names
the evidence that raises the probability most against leaving it out ("favourite category Drama → Comedy").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from scipy import sparse

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.bayesnet_features import (
    BEHAVIOUR,
    ItemCells,
    behaviour_labels,
    customer_labels,
    label,
    load_customer_attributes,
    load_item_attributes,
)
from kizuna.recommend.bayesnet_network import DiscreteNetwork
from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason
from kizuna.store.engine import Store

TARGET = "bought"
ITEM_VARIABLES = ("category", "price_band")
#: Evidence values named in one reason, at most.
REASON_EVIDENCE = 2
#: Distinct evidence combinations whose probabilities are kept in memory.
CACHE_ROWS = 100_000


class BayesianNetwork(Recommender):
    """Ranks categories by P(purchase | customer evidence) from a Bayesian network learnt with BIC.

    Args:
        customers: customer id → raw attributes by field (``{"age": 34, "gender": "female"}``); numbers under
            ``age`` are banded. ``from_store`` reads them; not saved in artefacts.
        items: product id → ``{"category": str or list of str, "price": float}``; not saved in artefacts.
        customer_fields: the customer attributes used as evidence (``age``, ``gender``, ``region`` or any
            attribute name such as ``occupation``).
        behaviour: the behaviour variables used, from ``recency``, ``frequency``, ``monetary``, ``favourite``.
        price_bands: price bands within each category (below 2: none).
        category_source: where ``from_store`` reads the category: ``category_path`` or a product attribute.
        category_depth: levels of the category path that make the category.
        quantile_bands: bands of purchase count and spend.
        max_indegree: most parents of one variable.
        pseudo_count: Dirichlet pseudo-count added to every cell of every table.
        max_rows: most training rows; above it negatives are sampled.
        min_lift: least relative rise of the probability for a piece of evidence to be named in a reason.
        seed: seed of the negative sampling.
    """

    name = "bayesnet"

    def __init__(
        self,
        customers: Mapping[int, Mapping[str, Any]] | None = None,
        items: Mapping[int, Mapping[str, Any]] | None = None,
        customer_fields: Sequence[str] = ("age", "gender", "region"),
        behaviour: Sequence[str] = BEHAVIOUR,
        price_bands: int = 3,
        category_source: str = "category_path",
        category_depth: int = 2,
        quantile_bands: int = 3,
        max_indegree: int | None = 3,
        pseudo_count: float = 0.5,
        max_rows: int = 200_000,
        min_lift: float = 0.05,
        seed: int = 42,
    ) -> None:
        super().__init__()
        reserved = {*BEHAVIOUR, *ITEM_VARIABLES, TARGET}
        if clash := reserved & set(customer_fields):
            raise ValueError(
                f"customer field(s) {sorted(clash)} clash with the network's own variables: rename them"
            )
        if unknown := set(behaviour) - set(BEHAVIOUR):
            raise ValueError(f"unknown behaviour {sorted(unknown)}: choose from {', '.join(BEHAVIOUR)}")
        self.customers = customers
        self.items = items
        self.customer_fields = list(customer_fields)
        self.behaviour = list(behaviour)
        self.price_bands = price_bands
        self.category_source = category_source
        self.category_depth = category_depth
        self.quantile_bands = quantile_bands
        self.max_indegree = max_indegree
        self.pseudo_count = pseudo_count
        self.max_rows = max_rows
        self.min_lift = min_lift
        self.seed = seed
        self.network: DiscreteNetwork | None = None
        self.evidence: IntArray | None = None  # customer rows × evidence variables, state codes (-1: unseen)
        self.evidence_names: list[str] = []
        self.cells: list[tuple[str, str]] = []
        self.slots: IntArray | None = None
        self.buyers: FloatArray | None = None  # customers who chose anything in each cell
        self._factor: FloatArray | None = None
        self._cache: dict[tuple[int, ...], FloatArray] = {}
        self._singles: dict[str, tuple[FloatArray, FloatArray]] = {}
        self._reasons: dict[tuple[int, tuple[int, ...]], Reason] = {}
        self._blanket_columns: list[int] | None = None

    @classmethod
    def from_store(cls, store: Store, **params: Any) -> Self:
        """A model whose customer attributes and product categories and prices are read from ``store``."""
        probe = cls(**params)
        return cls(
            customers=load_customer_attributes(store, probe.customer_fields),
            items=load_item_attributes(store, probe.category_source, probe.category_depth),
            **params,
        )

    def params(self) -> dict[str, Any]:
        return {
            "customer_fields": self.customer_fields,
            "behaviour": self.behaviour,
            "price_bands": self.price_bands,
            "category_source": self.category_source,
            "category_depth": self.category_depth,
            "quantile_bands": self.quantile_bands,
            "max_indegree": self.max_indegree,
            "pseudo_count": self.pseudo_count,
            "max_rows": self.max_rows,
            "min_lift": self.min_lift,
            "seed": self.seed,
        }

    # -- learning ---------------------------------------------------------------------------------
    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        assert self.seen is not None
        cells = ItemCells.build(data.product_ids, self.items, self.price_bands)
        prices = np.array([_price((self.items or {}).get(int(p), {})) for p in data.product_ids])
        labels = {
            **customer_labels(data.customer_ids, self.customers, self.customer_fields),
            **behaviour_labels(data, cells, prices, self.behaviour, self.quantile_bands),
        }
        active = np.flatnonzero(np.diff(self.seen.indptr) > 0)
        # A variable with one value among the customers who chose something says nothing.
        names = [n for n, values in labels.items() if len({values[u] for u in active.tolist()}) > 1]
        bought = (self.seen @ cells.membership).tocsr()
        users, ks, target = self._training_rows(active, bought)
        columns: dict[str, list[str]] = {}
        for name in names:
            values = np.array(labels[name], dtype=object)
            columns[name] = values[users].tolist()
        item_columns = {"category": [c for c, _ in cells.cells], "price_band": [b for _, b in cells.cells]}
        for name, per_cell in item_columns.items():
            if name == "category" or len(set(per_cell)) > 1:
                columns[name] = np.array(per_cell, dtype=object)[ks].tolist()
        columns[TARGET] = ["1" if t else "0" for t in target.tolist()]
        items_used = [n for n in ITEM_VARIABLES if n in columns]
        self.network = DiscreteNetwork.learn(
            columns,
            units={name: [labels[name][u] for u in active.tolist()] for name in names},
            required=[("category", TARGET)],
            forbidden=[(a, b) for a in names for b in items_used],
            max_indegree=self.max_indegree,
            pseudo_count=self.pseudo_count,
            # Every cell's values are states, even where sampling left a cell without rows.
            states={TARGET: ["0", "1"], **{n: sorted(set(v)) for n, v in item_columns.items()}},
        )
        self.evidence_names = names
        self.evidence = np.zeros((data.n_users, len(names)), dtype=np.int64)
        for k, name in enumerate(names):
            code = {s: i for i, s in enumerate(self.network.states[self.network.index(name)])}
            self.evidence[:, k] = [code.get(value, -1) for value in labels[name]]
        self.cells = cells.cells
        self.slots = cells.slots
        self.buyers = np.asarray((bought > 0).sum(axis=0), dtype=np.float64).ravel()
        self._prepare()

    def _training_rows(
        self, active: IntArray, bought: sparse.csr_matrix
    ) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
        """(customer row, cell, bought) per training row: the grid, or positives and sampled negatives."""
        n_cells = bought.shape[1]
        coo = sparse.coo_matrix(bought)
        positive = np.unique(coo.row.astype(np.int64) * n_cells + coo.col)
        if len(active) * n_cells <= self.max_rows:
            keys = (active[:, None] * n_cells + np.arange(n_cells)[None, :]).ravel()
        else:
            rng = np.random.default_rng(self.seed)
            kept = positive
            if len(kept) > max(self.max_rows // 2, 1):
                kept = np.sort(rng.choice(kept, max(self.max_rows // 2, 1), replace=False))
            wanted = self.max_rows - len(kept)
            negatives = np.empty(0, dtype=np.int64)
            # Draw pairs until enough are negatives (a dense grid has few to find).
            for _ in range(20):
                size = 2 * wanted
                draw = rng.choice(active, size) * n_cells + rng.integers(0, n_cells, size)
                negatives = np.union1d(negatives, draw[~np.isin(draw, positive)])
                if len(negatives) >= wanted:
                    break
            negatives = rng.permutation(negatives)[:wanted]
            keys = np.sort(np.concatenate([kept, negatives]))
        return keys // n_cells, keys % n_cells, np.isin(keys, positive)

    def _prepare(self) -> None:
        """Per product and slot: P(product | customer chose in the slot's cell), the share of the cell's
        customers who chose the product."""
        assert self.slots is not None and self.popularity is not None and self.buyers is not None
        slots, pop = self.slots, self.popularity
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(slots >= 0, pop[:, None] / self.buyers[np.maximum(slots, 0)], 0.0)
        self._factor = np.nan_to_num(factor, nan=0.0, posinf=0.0)
        self._cache = {}
        self._singles = {}
        self._reasons = {}
        self._blanket_columns = None

    # -- scoring ----------------------------------------------------------------------------------
    def _cell_codes(self) -> IntArray:
        """Per cell, the full row of network codes with the customer evidence left at -1."""
        net = self.network
        assert net is not None
        codes = np.full((len(self.cells), len(net.variables)), -1, dtype=np.int64)
        for k, (category, band) in enumerate(self.cells):
            for name, value in zip(ITEM_VARIABLES, (category, band), strict=True):
                if name in net.variables:
                    codes[k, net.index(name)] = _code(net, name, value)
        return codes

    def probabilities(self, evidence: IntArray) -> FloatArray:
        """P(target | evidence, cell) for rows of evidence codes (see ``evidence_names``): rows × cells."""
        net = self.network
        assert net is not None
        evidence = np.asarray(evidence, dtype=np.int64).reshape(len(evidence), len(self.evidence_names))
        unique, inverse = np.unique(evidence, axis=0, return_inverse=True)
        keys = [tuple(row) for row in unique.tolist()]
        new = [k for k, key in enumerate(keys) if key not in self._cache]
        if len(self._cache) + len(new) > CACHE_ROWS:
            self._cache = {}
            new = list(range(len(keys)))
        if new:
            base = self._cell_codes()
            n_cells = len(base)
            codes = np.tile(base, (len(new), 1))
            columns = [net.index(n) for n in self.evidence_names]
            codes[:, columns] = np.repeat(unique[new], n_cells, axis=0)
            p = net.posterior(codes, net.index(TARGET), net.states[net.index(TARGET)].index("1"))
            for k, row in zip(new, p.reshape(len(new), n_cells), strict=True):
                self._cache[keys[k]] = row
        table = np.array([self._cache[key] for key in keys]).reshape(len(keys), len(self.cells))
        return np.asarray(table[inverse.ravel()], dtype=np.float64)

    def predict(self, customers: Sequence[Mapping[str, Any]]) -> FloatArray:
        """P(target | attributes, cell) for customers described by raw attributes (unknown behaviour is summed
        out): rows × ``cells``."""
        net = self.network
        if net is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit() or load() first")
        rows = [[_code(net, n, label(n, c.get(n))) for n in self.evidence_names] for c in customers]
        return self.probabilities(np.array(rows, dtype=np.int64))

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.evidence is not None and self.slots is not None and self._factor is not None
        p = self.probabilities(self.evidence[rows])
        scores = np.zeros((len(rows), len(self.slots)))
        for j in range(self.slots.shape[1]):
            scores = np.maximum(scores, p[:, np.maximum(self.slots[:, j], 0)] * self._factor[:, j])
        return scores

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.evidence is not None and self.slots is not None and self._factor is not None
        key = tuple(self.evidence[row].tolist())
        p = self._cache[key] if key in self._cache else self.probabilities(self.evidence[[row]])[0]
        blanket = tuple(key[k] for k in self._blanket())
        slots = self.slots[items]
        chosen = np.argmax(np.where(slots >= 0, p[slots] * self._factor[items], -1.0), axis=1)
        reasons = []
        for best in slots[np.arange(len(items)), chosen].tolist():
            if (best, blanket) not in self._reasons:
                self._reasons[best, blanket] = self._reason(row, best)
            reason = self._reasons[best, blanket]
            if reason.code == "evidence":
                reason = Reason("evidence", (), {**reason.detail, "probability": round(float(p[best]), 4)})
            reasons.append(reason)
        return reasons

    def _reason(self, row: int, cell: int) -> Reason:
        """Names the customer's evidence that raises P(target | cell) most on its own, against the prior.

        Only evidence in the target's Markov blanket counts: the rest does not change the probability once
        the blanket is known.
        """
        net = self.network
        assert net is not None and self.evidence is not None
        lifts: list[tuple[float, int]] = []
        for k in self._blanket():
            name = self.evidence_names[k]
            value = int(self.evidence[row, k])
            if value >= 0:
                prior, alone = self._single(name)
                if prior[cell] > 0:
                    lifts.append((float(alone[value, cell] / prior[cell]), k))
        lifts.sort(key=lambda pair: (-pair[0], pair[1]))
        named = [k for lift, k in lifts if lift >= 1.0 + self.min_lift][:REASON_EVIDENCE]
        if not named:
            return Reason("popular")
        evidence = tuple(
            (
                self.evidence_names[k],
                net.states[net.index(self.evidence_names[k])][int(self.evidence[row, k])],
            )
            for k in named
        )
        return Reason("evidence", (), {"evidence": evidence, "category": self.cells[cell][0]})

    def _blanket(self) -> list[int]:
        """Positions in ``evidence_names`` of the evidence in the target's Markov blanket."""
        if self._blanket_columns is None:
            net = self.network
            assert net is not None
            blanket = net.markov_blanket(net.index(TARGET))
            self._blanket_columns = [k for k, n in enumerate(self.evidence_names) if net.index(n) in blanket]
        return self._blanket_columns

    def _single(self, name: str) -> tuple[FloatArray, FloatArray]:
        """P(target | cell) per cell, and P(target | ``name``, cell) per value of ``name`` and cell."""
        if name not in self._singles:
            net = self.network
            assert net is not None
            target = net.index(TARGET)
            positive = net.states[target].index("1")
            items = [net.index(n) for n in ITEM_VARIABLES if n in net.variables]
            cells = self._cell_codes()[:, items]
            prior = net.conditional(target, items)[positive][tuple(cells.T)]
            table = net.conditional(target, [net.index(name), *items])[positive]
            alone = np.stack([table[s][tuple(cells.T)] for s in range(table.shape[0])])
            self._singles[name] = (prior, alone)
        return self._singles[name]

    # -- artefacts --------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        assert self.network is not None
        meta, flat = self.network.to_arrays()
        meta |= {"evidence_names": self.evidence_names, "cells": self.cells}
        return {
            "network": np.array(json.dumps(meta, ensure_ascii=False)),
            "tables": flat,
            "evidence": self.evidence,
            "slots": self.slots,
            "buyers": self.buyers,
        }

    def _restore(self, state: dict[str, Any]) -> None:
        meta = json.loads(str(state["network"]))
        self.network = DiscreteNetwork.from_arrays(meta, state["tables"])
        self.evidence_names = list(meta["evidence_names"])
        self.cells = [(str(c), str(b)) for c, b in meta["cells"]]
        self.evidence = np.asarray(state["evidence"], dtype=np.int64).reshape(-1, len(self.evidence_names))
        self.slots = np.asarray(state["slots"], dtype=np.int64)
        self.buyers = np.asarray(state["buyers"], dtype=np.float64)
        self._prepare()


def _code(net: DiscreteNetwork, name: str, value: str) -> int:
    """The state index of ``value`` for variable ``name``; -1 (unobserved) for a value training never saw."""
    states = net.states[net.index(name)]
    return states.index(value) if value in states else -1


def _price(item: Mapping[str, Any]) -> float:
    value = item.get("price")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else np.nan
