"""Training data for recommenders: who interacted with what, how strongly and when, read from the store.

Recommenders work in index space: row ``u`` is ``customer_ids[u]`` and column ``i`` is ``product_ids[i]``.
Purchases (order lines) and stored interactions (ratings, views, cart adds) both count; each source has a
weight so a purchase can count more than a view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy import select

from kizuna.recommend.evaluate.splits import Interactions
from kizuna.store.engine import Store
from kizuna.store.orders import is_purchase
from kizuna.store.tables import Interaction, Order, OrderLine, Product
from kizuna.store.types import utcnow

IntArray = npt.NDArray[np.int64]

#: Weight of one interaction per source, unless the caller says otherwise.
DEFAULT_WEIGHTS: Mapping[str, float] = {"purchase": 1.0, "rating": 1.0, "interaction": 1.0, "view": 0.3}


@dataclass
class TrainingData:
    """Interactions in index space, with the ids that the indexes stand for."""

    customer_ids: IntArray
    product_ids: IntArray
    interactions: Interactions
    snapshot: dict[str, Any] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        """Number of customers (rows)."""
        return len(self.customer_ids)

    @property
    def n_items(self) -> int:
        """Number of products (columns)."""
        return len(self.product_ids)

    def matrix(self) -> sparse.csr_matrix:
        """The users × items matrix of summed weights."""
        return self.interactions.to_csr(self.n_users, self.n_items)

    def with_interactions(self, interactions: Interactions) -> TrainingData:
        """The same customers and products with other interactions (a train or test split)."""
        return TrainingData(self.customer_ids, self.product_ids, interactions, dict(self.snapshot))

    @classmethod
    def from_ids(
        cls,
        customers: npt.ArrayLike,
        products: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
        times: npt.ArrayLike | None = None,
        *,
        all_products: npt.ArrayLike | None = None,
    ) -> TrainingData:
        """Build from parallel arrays of customer ids and product ids (weights default to 1).

        ``all_products`` adds catalogue items nobody has interacted with yet, so they can still be scored.
        """
        cust = np.asarray(customers, dtype=np.int64)
        prod = np.asarray(products, dtype=np.int64)
        if len(cust) != len(prod):
            raise ValueError(f"{len(cust)} customer ids but {len(prod)} product ids: they must pair up")
        w = np.ones(len(cust)) if weights is None else np.asarray(weights, dtype=np.float64)
        t = np.full(len(cust), np.nan) if times is None else np.asarray(times, dtype=np.float64)
        customer_ids, rows = np.unique(cust, return_inverse=True)
        catalogue = (
            prod if all_products is None else np.concatenate([prod, np.asarray(all_products, np.int64)])
        )
        product_ids = np.unique(catalogue)
        cols = np.searchsorted(product_ids, prod)
        data = Interactions(rows.astype(np.int64), cols.astype(np.int64), w, t)
        snapshot = {
            "interactions": len(cust),
            "customers": len(customer_ids),
            "products": len(product_ids),
        }
        return cls(customer_ids.astype(np.int64), product_ids.astype(np.int64), data, snapshot)


def load_training_data(store: Store, *, weights: Mapping[str, float] | None = None) -> TrainingData:
    """Read purchases (orders not cancelled, refunded or returned) and stored interactions from ``store``
    into index space.

    Every product in the catalogue gets a column, so content-based and popularity fallbacks can reach items
    nobody has bought yet. Interactions come in the order they were stored (purchases, then the others), on
    every store, so a seeded split of them is the same on SQLite and PostgreSQL. The snapshot records what
    was read and when.
    """
    weight_of = {**DEFAULT_WEIGHTS, **(weights or {})}
    customers: list[int] = []
    products: list[int] = []
    w: list[float] = []
    t: list[float] = []
    with store.engine.connect() as conn:
        purchases = conn.execute(
            select(Order.customer_id, OrderLine.product_id, Order.ordered_at)
            .join(Order, Order.id == OrderLine.order_id)
            .where(is_purchase(Order.status))
            .order_by(OrderLine.id)
        )
        for customer_id, product_id, when in purchases:
            customers.append(customer_id)
            products.append(product_id)
            w.append(weight_of["purchase"])
            t.append(when.timestamp())
        stored = conn.execute(
            select(
                Interaction.customer_id,
                Interaction.product_id,
                Interaction.kind,
                Interaction.weight,
                Interaction.occurred_at,
            ).order_by(Interaction.id)
        )
        for customer_id, product_id, kind, weight, when in stored:
            customers.append(customer_id)
            products.append(product_id)
            w.append(weight * weight_of.get(kind, 1.0))
            t.append(when.timestamp() if when is not None else np.nan)
        catalogue = np.fromiter(conn.execute(select(Product.id)).scalars(), dtype=np.int64)
    data = TrainingData.from_ids(customers, products, w, t, all_products=catalogue)
    data.snapshot.update({"store": store.engine.url.render_as_string(), "read_at": utcnow().isoformat()})
    return data
