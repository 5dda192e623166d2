"""Learning a blend's weights on a validation split carved out of its own training data.

Every component is fitted on the earlier part (its hyperparameter searched there first, see
:mod:`kizuna.recommend.tuning`); for a sample of customers with held-out choices, each
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
from kizuna.recommend.evaluate.metrics import ndcg_of_hits
from kizuna.recommend.factorisation import ALS
from kizuna.recommend.tuning import BLOCK, Search, search, top_columns, validation

if TYPE_CHECKING:
    from kizuna.recommend.blend import Blend

#: Weights tried for each component (relative to the best single component, fixed at 1).
GRID = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0)
#: One hyperparameter per component searched on the same validation split (:mod:`kizuna.recommend.tuning`).
#: ALS's regularisation has a sharp optimum (on MovieLens-100k nDCG@10 0.426 at 10, 0.497 at 30, 0.479 at
#: 40), hence two rounds there; EASE's λ is flat near its optimum.
COMPONENT_SEARCH: dict[str, Search] = {
    "ease": Search("regularisation", (200.0, 500.0, 1000.0), 1),
    "als": ALS.SEARCH,
}
#: Products per component and customer kept as candidates for the blended ranking.
POOL = 100


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


def learn_weights(blend: Blend, data: TrainingData, names: Sequence[str]) -> LearntWeights:
    """Weights for ``names`` (one per name) that maximise validation nDCG@k of the blend."""
    on = validation(
        data,
        valid_days=blend.valid_days,
        valid_ratio=blend.valid_ratio,
        seed=blend.seed,
        max_users=blend.max_valid_users,
        repeats=blend.repeats,
    )
    repeats, rows, relevant, seen = on.repeats, on.rows, on.relevant, on.seen
    if len(rows) == 0 or len(names) == 1:
        return LearntWeights([1.0] * len(names), repeats, split=on.label)
    models: list[Recommender] = []
    chosen: dict[str, dict[str, Any]] = {}
    for name in names:
        model = blend._build(name)
        spec = COMPONENT_SEARCH.get(name)
        if spec is not None and spec.param not in blend.component_params.get(name, {}):
            value, model = search(model, spec, on, blend.k)
            chosen[name] = {spec.param: value}
        else:
            model.fit(on.fit)
        models.append(model)
    pool, scores = _candidate_pool(models, seen, rows, exclude_seen=not repeats)
    gain = _pool_ndcg(pool, [relevant[r] for r in rows.tolist()], blend.k)

    def objective(weights: Sequence[float]) -> float:
        blended = np.where(pool >= 0, np.tensordot(np.asarray(weights), scores, axes=1), -np.inf)
        return gain(top_columns(blended, blend.k))

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
    return LearntWeights(weights, repeats, value, single, len(rows), on.label, chosen, carried)


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
