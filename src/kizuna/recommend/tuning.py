"""Choosing a hyperparameter on a validation split carved out of the training data, never on a test split.

The blend searches its components' hyperparameters this way while it learns their weights; a model whose
hyperparameter has no value that suits every dataset (ALS's regularisation) searches it the same way when
fitted on its own. The split is the last weeks when most customers are active in them, else a random share of
each customer's choices; the measure is nDCG@k of the model's own ranking for a sample of the customers with
held-out choices; values are tried on a log scale with rounds of refinement between the best and its
neighbours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.evaluate.metrics import ndcg_at_k
from kizuna.recommend.evaluate.relevance import relevant_items
from kizuna.recommend.evaluate.splits import Interactions, stratified_split, temporal_split_last

#: Customers a sampled search fits on, at most (the validation customers among them); the value found is
#: then fitted on every customer. Each ALS fit costs time in proportion to the customers (4.5 s for 85,000
#: on two cores), so a search over a million would take minutes; but the optimum moves with their number
#: (on that demo store 31.6 with every customer, 17.8 on 20,000 of them), so the sample is kept large.
SEARCH_CUSTOMERS = 100_000
#: Share of held-out choices already bought before above which repeat purchases count as right answers.
REPEAT_SHARE = 0.2
#: Share of customers active in the last period needed to validate on it.
ACTIVE_SHARE = 0.25
#: Customers scored at once.
BLOCK = 256


@dataclass(frozen=True)
class Search:
    """One hyperparameter searched on a log scale: the ``values`` tried first, then ``rounds`` of
    refinement, each trying the geometric midpoints on either side of the best so far. ``sampled`` says
    whether the search may fit on a sample of :data:`SEARCH_CUSTOMERS` customers."""

    param: str
    values: tuple[float, ...]
    rounds: int
    sampled: bool = False
    #: The value used when there is nothing to validate on (no customer has a held-out choice).
    fallback: float | None = None


@dataclass
class Validation:
    """A validation split: the part fitted on, the customers (rows of ``fit``) scored, what is right for
    each, whether repeat purchases count, and the generator that drew the sample (searches draw on)."""

    fit: TrainingData
    rows: IntArray
    relevant: dict[int, set[int]]
    repeats: bool
    label: str
    rng: np.random.Generator
    seen: sparse.csr_matrix = field(init=False)

    def __post_init__(self) -> None:
        self.seen = self.fit.matrix().tocsr()


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


def validation(
    data: TrainingData,
    *,
    valid_days: float = 28.0,
    valid_ratio: float = 0.2,
    seed: int = 42,
    max_users: int = 1_000,
    repeats: bool | None = None,
) -> Validation:
    """The validation split of ``data`` and a sample of at most ``max_users`` customers to score on it.
    ``repeats`` None reads from the data whether repeat purchases count (a fifth or more of held-out
    choices were bought before)."""
    fit, valid, label = validation_split(data, valid_days, valid_ratio, seed)
    if repeats is None:
        repeats = repeat_share(fit, valid) >= REPEAT_SHARE
    relevant = relevant_items(fit, valid, repeats=repeats)
    rows = np.array(sorted(relevant), dtype=np.int64)
    rng = np.random.default_rng(seed)
    if len(rows) > max_users:
        rows = np.sort(rng.choice(rows, max_users, replace=False))
    return Validation(fit, rows, relevant, repeats, label, rng)


def search(model: Recommender, spec: Search, on: Validation, k: int) -> tuple[float, Recommender]:
    """The value of ``spec`` whose refit of ``model`` ranks best on ``on``, and that refit, fitted on every
    customer of ``on.fit`` (a sampled search refits it on them all)."""
    part = customer_sample(on.fit, on.rows, on.relevant, on.rng) if spec.sampled else None
    where = part or Part(on.fit, on.rows, on.seen, on.relevant)
    value, found = log_search(trial_of(model, spec.param, where, k, on.repeats), spec.values, spec.rounds)
    if part is not None:
        found = found.refit(on.fit)  # the value found, on every customer
    return value, found


def tune(model: Recommender, spec: Search, data: TrainingData, *, k: int = 10, seed: int = 42) -> tuple[
    float, dict[str, Any]
]:  # fmt: skip
    """The value of ``spec`` for ``model`` on its own validation split of ``data``, and a report of the
    search for the model's metrics (the fallback when no customer has a held-out choice)."""
    on = validation(data, seed=seed)
    report: dict[str, Any] = {"split": on.label, "customers": len(on.rows), "repeats": on.repeats}
    if len(on.rows) == 0:
        if spec.fallback is None:
            raise ValueError(f"nothing to choose {spec.param} on: no customer has a held-out choice")
        return spec.fallback, {**report, "chosen_params": {spec.param: spec.fallback}, "fallback": True}
    value, _ = search(model, spec, on, k)
    return value, {**report, "chosen_params": {spec.param: value}}


@dataclass
class Part:
    """Training data for a search, the validation customers' rows in it, what they chose, what is right."""

    data: TrainingData
    rows: IntArray
    seen: sparse.csr_matrix
    relevant: dict[int, set[int]]


def customer_sample(
    fit: TrainingData, rows: IntArray, relevant: dict[int, set[int]], rng: np.random.Generator
) -> Part | None:
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
    return Part(
        data, at, data.matrix().tocsr(), {int(a): relevant[int(r)] for a, r in zip(at, rows, strict=True)}
    )


def trial_of(
    base: Recommender, param: str, on: Part, k: int, repeats: bool
) -> Callable[[float], tuple[float, Recommender]]:
    """For a value of ``param``: ``base`` refitted with it on ``on``, and that model's validation nDCG@k."""

    def trial(value: float) -> tuple[float, Recommender]:
        model = base.refit(on.data, **{param: value})
        return own_ndcg(model, on.seen, on.rows, on.relevant, k, repeats), model

    return trial


def log_search(
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


def own_ndcg(
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
        lists.extend(top_columns(scores, k).tolist())
    return ndcg_at_k(lists, [relevant[r] for r in rows.tolist()], k)


def top_columns(scores: FloatArray, k: int) -> IntArray:
    """Per row, the columns of the ``k`` highest scores, best first; ties lower column first, as served."""
    k = min(k, scores.shape[1])
    top = np.sort(np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
    order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
    return np.take_along_axis(top, order, 1)
