"""Learning a blend's weights on a validation split carved out of its own training data.

Every component is fitted on the earlier part; for a sample of customers with held-out choices, each
component's scaled scores are kept only on a candidate pool (the union of every component's top
``POOL`` products per customer), where the blended top k almost surely lies. A coordinate search over
:data:`GRID` then maximises nDCG@k, starting from the best single component.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.evaluate.metrics import ndcg_at_k, ndcg_of_hits
from kizuna.recommend.evaluate.relevance import relevant_items
from kizuna.recommend.evaluate.splits import Interactions, stratified_split, temporal_split_last

if TYPE_CHECKING:
    from kizuna.recommend.blend import Blend

#: Weights tried for each component (relative to the best single component, fixed at 1).
GRID = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0)
#: One hyperparameter per component searched on the same validation split, on a log scale: the values
#: tried first, then rounds of refinement, each trying the geometric midpoints on either side of the best
#: so far. The best alone is kept. ALS's regularisation has a sharp optimum (on MovieLens-100k nDCG@10
#: 0.426 at 10, 0.497 at 30, 0.479 at 40), hence two rounds there; EASE's λ is flat near its optimum. The
#: last field says whether the search may fit on a sample of :data:`SEARCH_CUSTOMERS` customers.
COMPONENT_SEARCH: dict[str, tuple[str, tuple[float, ...], int, bool]] = {
    "ease": ("regularisation", (200.0, 500.0, 1000.0), 1, False),
    "als": ("regularization", (1.0, 10.0, 100.0), 2, True),
}
#: Customers a sampled search fits on, at most (the validation customers among them); the value found is
#: then fitted on every customer. Each ALS fit costs time in proportion to the customers (4.5 s for 85,000
#: on two cores), so a search over a million would take minutes; but the optimum moves with their number
#: (on that demo store 31.6 with every customer, 17.8 on 20,000 of them), so the sample is kept large.
SEARCH_CUSTOMERS = 100_000
#: Products per component and customer kept as candidates for the blended ranking.
POOL = 100
#: Share of held-out choices already bought before above which repeat purchases count as right answers.
REPEAT_SHARE = 0.2
#: Share of customers active in the last period needed to validate on it.
ACTIVE_SHARE = 0.25
#: Customers scored at once while building the candidate pool.
BLOCK = 256


def scaled(scores: FloatArray, weight: float = 1.0, *, in_place: bool = False) -> FloatArray:
    """Each row times ``weight`` over its largest absolute value, so components of any scale can be summed.

    Components score every product with a finite number (exclusions are applied after blending). With
    ``in_place`` the array given is scaled itself (for fresh score arrays on the serving path: no copy).
    """
    top = np.maximum(scores.max(axis=1, initial=0.0), -scores.min(axis=1, initial=0.0))
    factor = (weight / np.maximum(top, 1e-12))[:, None]
    if in_place:
        scores *= factor
        return scores
    out: FloatArray = scores * factor
    return out


@dataclass
class LearntWeights:
    """The weights found, whether repeats counted, and the validation nDCG of each component and the blend."""

    weights: list[float]
    repeats: bool
    objective: float = 0.0
    single: dict[str, float] = field(default_factory=dict)
    customers: int = 0
    split: str = ""
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Validated models that :attr:`Recommender.carries_over` work to the final fit, by component.
    carried: dict[str, Recommender] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """For the artefact's metrics."""
        return {
            "split": self.split,
            "customers": self.customers,
            "repeats": self.repeats,
            "ndcg_blend": self.objective,
            "ndcg_components": self.single,
            "chosen_params": self.params,
        }


def validation_split(data: TrainingData, valid_days: float, valid_ratio: float, seed: int) -> tuple[
    TrainingData, TrainingData, str
]:  # fmt: skip
    """The last ``valid_days`` when interactions are timed and a quarter of customers or more are active in
    that period (a grocer's weekly shoppers); else a random share of each customer's interactions (ratings
    given over years, where a recent window holds few customers)."""
    inter = data.interactions
    if len(inter.time) and np.isfinite(inter.time).mean() >= 0.9:
        fit, valid = temporal_split_last(inter, valid_days)
        active = np.intersect1d(np.unique(fit.user), np.unique(valid.user))
        if len(active) >= ACTIVE_SHARE * len(np.unique(inter.user)):
            return data.with_interactions(fit), data.with_interactions(valid), f"last {valid_days:g} days"
    fit, valid = stratified_split(inter, 1.0 - valid_ratio, seed=seed)
    label = f"random {valid_ratio:.0%} per customer"
    return data.with_interactions(fit), data.with_interactions(valid), label


def repeat_share(fit: TrainingData, valid: TrainingData) -> float:
    """Share of held-out (customer, product) pairs the customer had already chosen before."""
    n = fit.n_items
    held = np.unique(valid.interactions.user * n + valid.interactions.item)
    if len(held) == 0:
        return 0.0
    before = np.unique(fit.interactions.user * n + fit.interactions.item)
    return float(np.isin(held, before).mean())


def learn_weights(blend: Blend, data: TrainingData, names: Sequence[str]) -> LearntWeights:
    """Weights for ``names`` (one per name) that maximise validation nDCG@k of the blend."""
    fit, valid, label = validation_split(data, blend.valid_days, blend.valid_ratio, blend.seed)
    repeats = blend.repeats if blend.repeats is not None else repeat_share(fit, valid) >= REPEAT_SHARE
    relevant = relevant_items(fit, valid, repeats=repeats)
    rows = np.array(sorted(relevant), dtype=np.int64)
    equal = LearntWeights([1.0] * len(names), repeats, split=label)
    if len(rows) == 0 or len(names) == 1:
        return equal
    rng = np.random.default_rng(blend.seed)
    if len(rows) > blend.max_valid_users:
        rows = np.sort(rng.choice(rows, blend.max_valid_users, replace=False))
    seen = fit.matrix().tocsr()
    models: list[Recommender] = []
    chosen: dict[str, dict[str, Any]] = {}
    for name in names:
        model = blend._build(name)
        search = COMPONENT_SEARCH.get(name)
        if search is not None and search[0] not in blend.component_params.get(name, {}):
            param, values, rounds, sampled = search
            part = _customer_sample(fit, rows, relevant, rng) if sampled else None
            on = part or _Part(fit, rows, seen, relevant)
            value, model = _log_search(_trial(model, param, on, blend.k, repeats), values, rounds)
            if part is not None:
                model = model.refit(fit)  # the value found, on every customer
            chosen[name] = {param: value}
        else:
            model.fit(fit)
        models.append(model)
    pool, scores = _candidate_pool(models, seen, rows, exclude_seen=not repeats)
    gain = _pool_ndcg(pool, [relevant[r] for r in rows.tolist()], blend.k)

    def objective(weights: Sequence[float]) -> float:
        blended = np.where(pool >= 0, np.tensordot(np.asarray(weights), scores, axes=1), -np.inf)
        return gain(_top_columns(blended, blend.k))

    single = {name: objective(np.eye(len(names))[c]) for c, name in enumerate(names)}
    best = int(np.argmax(list(single.values())))
    weights = [0.0] * len(names)
    weights[best] = 1.0
    value = single[names[best]]
    for _ in range(2):
        improved = False
        for c in range(len(names)):
            if c == best:
                continue
            for w in GRID:
                trial = weights.copy()
                trial[c] = w
                v = objective(trial)
                if v > value + 1e-6:
                    weights, value, improved = trial, v, True
        if not improved:
            break
    carried = {name: model for name, model in zip(names, models, strict=True) if model.carries_over}
    return LearntWeights(weights, repeats, value, single, len(rows), label, chosen, carried)


@dataclass
class _Part:
    """Training data for a search, the validation customers' rows in it, what they chose, what is right."""

    data: TrainingData
    rows: IntArray
    seen: sparse.csr_matrix
    relevant: dict[int, set[int]]


def _customer_sample(
    fit: TrainingData, rows: IntArray, relevant: dict[int, set[int]], rng: np.random.Generator
) -> _Part | None:
    """``fit`` cut to :data:`SEARCH_CUSTOMERS` customers, every validation customer (``rows``) among them,
    re-indexed; None when it has no more customers than that."""
    active = np.unique(fit.interactions.user)
    if len(active) <= SEARCH_CUSTOMERS:
        return None
    others = np.setdiff1d(active, rows)
    extra = rng.choice(others, max(SEARCH_CUSTOMERS - len(rows), 0), replace=False)
    kept = np.union1d(rows, extra)
    inter = fit.interactions.subset(np.isin(fit.interactions.user, kept))
    inter = Interactions(np.searchsorted(kept, inter.user), inter.item, inter.weight, inter.time)
    data = TrainingData(fit.customer_ids[kept], fit.product_ids, inter, dict(fit.snapshot))
    at = np.searchsorted(kept, rows)
    return _Part(
        data, at, data.matrix().tocsr(), {int(a): relevant[int(r)] for a, r in zip(at, rows, strict=True)}
    )


def _trial(
    base: Recommender, param: str, on: _Part, k: int, repeats: bool
) -> Callable[[float], tuple[float, Recommender]]:
    """For a value of ``param``: ``base`` refitted with it on ``on``, and that model's validation nDCG@k."""

    def trial(value: float) -> tuple[float, Recommender]:
        model = base.refit(on.data, **{param: value})
        return _own_ndcg(model, on.seen, on.rows, on.relevant, k, repeats), model

    return trial


def _log_search(
    evaluate: Callable[[float], tuple[float, Recommender]], values: Sequence[float], rounds: int
) -> tuple[float, Recommender]:
    """The value of ``values`` and ``rounds`` of their refinements whose model scores best, and that model
    (only the best model is kept: a dense one can be large)."""
    scores: dict[float, float] = {}
    best: tuple[float, float, Recommender] | None = None

    def trial(value: float) -> None:
        nonlocal best
        score, model = evaluate(value)
        scores[value] = score
        if best is None or score > best[0]:
            best = (score, value, model)

    for value in values:
        trial(float(value))
    for _ in range(rounds):
        assert best is not None
        ordered = sorted(scores)
        centre = best[1]
        at = ordered.index(centre)
        for side in (at - 1, at + 1):
            if 0 <= side < len(ordered):
                middle = float(np.sqrt(centre * ordered[side]))
                if middle not in scores:
                    trial(middle)
    assert best is not None
    return best[1], best[2]


def _own_ndcg(
    model: Recommender,
    seen: sparse.csr_matrix,
    rows: IntArray,
    relevant: dict[int, set[int]],
    k: int,
    repeats: bool,
) -> float:
    """Validation nDCG@k of one model's own ranking (scores only: no reasons are needed here)."""
    lists: list[list[int]] = []
    for start in range(0, len(rows), BLOCK):
        chunk = rows[start : start + BLOCK]
        scores = model._score(chunk)
        if not repeats:
            scores[seen[chunk].nonzero()] = -np.inf
        lists.extend(_top_columns(scores, k).tolist())
    return ndcg_at_k(lists, [relevant[r] for r in rows.tolist()], k)


def _pool_ndcg(pool: IntArray, truth: Sequence[set[int]], k: int) -> Callable[[IntArray], float]:
    """nDCG@k of chosen pool columns (best first), from which of the pool's products are relevant, found
    once: the coordinate search asks for it dozens of times over the same pool."""
    relevant = np.zeros(pool.shape, dtype=np.float64)
    for i, (row, wanted) in enumerate(zip(pool.tolist(), truth, strict=True)):
        relevant[i] = [p in wanted for p in row]
    sizes = [len(t) for t in truth]

    def gain(top: IntArray) -> float:
        return ndcg_of_hits(np.take_along_axis(relevant, top, 1), sizes, k)

    return gain


def _top_columns(scores: FloatArray, k: int) -> IntArray:
    """Per row, the columns of the ``k`` highest scores, best first; ties lower column first, as served."""
    k = min(k, scores.shape[1])
    top = np.sort(np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
    order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
    return np.take_along_axis(top, order, 1)


def _candidate_pool(
    models: Sequence[Recommender], seen: sparse.csr_matrix, rows: IntArray, *, exclude_seen: bool
) -> tuple[IntArray, FloatArray]:
    """Per customer, the union of every model's top :data:`POOL` products (padded to one width), and each
    model's scaled scores on them: shapes (customers, pool) and (models, customers, pool)."""
    pools: list[IntArray] = []
    blocks: list[list[FloatArray]] = []
    for start in range(0, len(rows), BLOCK):
        chunk = rows[start : start + BLOCK]
        table = [scaled(m._score(chunk)) for m in models]
        for k, row in enumerate(chunk.tolist()):
            blocked = seen.indices[seen.indptr[row] : seen.indptr[row + 1]] if exclude_seen else None
            tops = []
            for t in table:
                s = t[k].copy()
                if blocked is not None:
                    s[blocked] = -np.inf
                tops.append(np.argpartition(-s, min(POOL, len(s) - 1))[:POOL])
            cand = np.unique(np.concatenate(tops))
            if blocked is not None:
                cand = cand[~np.isin(cand, blocked)]
            pools.append(cand)
            blocks.append([t[k][cand] for t in table])
    width = max(len(p) for p in pools)
    pool = np.full((len(rows), width), -1, dtype=np.int64)
    scores = np.zeros((len(models), len(rows), width))
    for i, (p, per_model) in enumerate(zip(pools, blocks, strict=True)):
        pool[i, : len(p)] = p
        for m, s in enumerate(per_model):
            scores[m, i, : len(p)] = s
    return pool, scores
