"""Products chosen in one visit: pairs of a customer's interactions close in time, weighted by how close.

Two products a customer viewed, rated or bought within minutes of each other were chosen with one intent
more often than two chosen months apart; the products of one order share its time and so pair fully. Each
pair of one customer's interactions counts ``exp(-Δt / seconds)``, and the pairs are summed over customers
into a products × products matrix that item-item models add to their co-occurrence counts.

Interactions without a time are left out. Pairs further apart than :data:`HORIZON` time scales (weight
below 5 × 10⁻⁵) are not counted, nor are more than ``max_lag`` interactions apart in a customer's history,
which bounds the work for a customer with thousands of interactions in one visit.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from kizuna.recommend.evaluate.splits import Interactions

#: Pairs further apart than this many time scales are not counted (exp(-10) ≈ 4.5e-5).
HORIZON = 10.0


def session_pairs(
    interactions: Interactions, n_items: int, seconds: float, *, max_lag: int = 1_000
) -> sparse.csr_matrix:
    """The symmetric ``n_items × n_items`` matrix of summed ``exp(-Δt / seconds)`` over pairs of distinct
    products that one customer chose ``Δt`` seconds apart; zero diagonal.

    Args:
        interactions: Who chose what and when; rows without a time are ignored.
        n_items: Number of products (columns of the result).
        seconds: The time scale: a pair this far apart counts ``1/e``, a pair at the same moment 1.
        max_lag: Pairs more than this many interactions apart in a customer's history are not counted.

    Raises:
        ValueError: If ``seconds`` is not positive or ``max_lag`` is below 1.
    """
    if not (np.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be a positive time scale in seconds, got {seconds}")
    if max_lag < 1:
        raise ValueError(f"max_lag must be at least 1, got {max_lag}")
    timed = np.isfinite(interactions.time)
    user, item, time = interactions.user[timed], interactions.item[timed], interactions.time[timed]
    order = np.lexsort((time, user))
    user, item, time = user[order], item[order], time[order]
    cutoff = HORIZON * seconds
    firsts: list[np.ndarray] = []
    lasts: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    # Positions whose pair at the previous lag qualified: sorted by (customer, time), a pair at lag d + 1
    # can only qualify where the pair at lag d did (same customer, gap no smaller), so the set only shrinks.
    active = np.arange(max(len(user) - 1, 0))
    for lag in range(1, max_lag + 1):
        active = active[active + lag < len(user)]
        gap = time[active + lag] - time[active]
        keep = (user[active + lag] == user[active]) & (gap <= cutoff)
        active, gap = active[keep], gap[keep]
        if len(active) == 0:
            break
        a, b = item[active], item[active + lag]
        distinct = a != b
        firsts.append(a[distinct])
        lasts.append(b[distinct])
        weights.append(np.exp(-gap[distinct] / seconds))
    if not firsts:
        return sparse.csr_matrix((n_items, n_items), dtype=np.float64)
    a, b, w = np.concatenate(firsts), np.concatenate(lasts), np.concatenate(weights)
    pairs = sparse.coo_matrix((w, (a, b)), shape=(n_items, n_items)).tocsr()
    return sparse.csr_matrix(pairs + pairs.T)
