"""Comparing recommenders on one split: fit each on the train part, rank for every test customer, score.

The library call under ``kizuna evaluate``; benchmarks use it too, so every figure is computed one way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kizuna.progress import NullProgress, Progress
from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.evaluate.metrics import evaluate_lists
from kizuna.recommend.evaluate.relevance import relevant_items
from kizuna.recommend.evaluate.splits import leave_last_out, stratified_split, temporal_split_last
from kizuna.recommend.registry import algorithm
from kizuna.store.engine import Store

__all__ = ["SPLITS", "Evaluation", "evaluate", "relevant_items", "score_model", "split_data"]

SPLITS = ("stratified", "temporal", "leave-last-out")


@dataclass
class Evaluation:
    """Results per algorithm (metric → value, plus ``train_seconds``) and how they were obtained."""

    split: dict[str, Any]
    k: int
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def split_data(
    data: TrainingData, split: str, *, ratio: float = 0.75, seed: int = 42, days: float = 28.0
) -> tuple[TrainingData, TrainingData]:
    """Train and test parts of ``data`` by the named splitter."""
    if split == "stratified":
        train, test = stratified_split(data.interactions, ratio, seed=seed)
    elif split == "temporal":
        train, test = temporal_split_last(data.interactions, days)
    elif split == "leave-last-out":
        train, test = leave_last_out(data.interactions)
    else:
        raise ValueError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    return data.with_interactions(train), data.with_interactions(test)


def score_model(
    model: Recommender,
    train: TrainingData,
    test: TrainingData | None,
    k: int,
    relevant: dict[int, set[int]] | None = None,
    *,
    repeats: bool = False,
) -> dict[str, float]:
    """Ranking metrics of a fitted ``model`` for every customer with a new test item (see relevant_items).

    Seen items are removed from the lists, so test items a customer already had in train are not relevant;
    with ``repeats`` they stay in both (see :func:`relevant_items`). Pass ``relevant`` (then ``test`` may be
    None) to reuse it across models.
    """
    if relevant is None:
        if test is None:
            raise ValueError("score_model needs the test part or the relevant items")
        relevant = relevant_items(train, test, repeats=repeats)
    rows = sorted(relevant)
    if not rows:
        return {}
    recs = model.recommend(train.customer_ids[rows], n=k, exclude_seen=not repeats)
    column = {int(p): c for c, p in enumerate(train.product_ids)}
    lists = [[column[int(p)] for p in ids] for ids in recs.ids]
    truth = [relevant[r] for r in rows]
    users_per_item = np.bincount(
        np.unique(train.interactions.user * train.n_items + train.interactions.item) % train.n_items,
        minlength=train.n_items,
    ).astype(np.float64)
    return evaluate_lists(lists, truth, k, train.n_items, users_per_item, train.n_users)


def evaluate(
    data: TrainingData,
    algorithms: Sequence[str],
    *,
    split: str = "stratified",
    ratio: float = 0.75,
    seed: int = 42,
    days: float = 28.0,
    k: int = 10,
    repeats: bool = False,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Fit each algorithm on the train part and score it on the test part of one split.

    With ``store``, models that read more than interactions (product texts) are built from it. With
    ``repeats``, items bought before count and are not removed from the lists (see :func:`relevant_items`).
    """
    progress = progress or NullProgress()
    train, test = split_data(data, split, ratio=ratio, seed=seed, days=days)
    report = Evaluation(
        split={
            "name": split,
            "ratio": ratio,
            "seed": seed,
            "days": days,
            "repeats": repeats,
            "train": len(train.interactions),
            "test": len(test.interactions),
        },
        k=k,
    )
    progress.stage(f"evaluating on a {split} split", total=len(algorithms))
    for name in algorithms:
        started = time.perf_counter()
        try:
            chosen = dict((params or {}).get(name, {}))
            cls = algorithm(name)
            model = cls.from_store(store, **chosen) if store is not None else cls(**chosen)
            model.fit(train)
        except ValueError as exc:  # e.g. a dense model refusing a catalogue too large for it
            report.skipped[name] = str(exc)
            progress.advance()
            continue
        seconds = time.perf_counter() - started
        metrics = score_model(model, train, test, k, repeats=repeats)
        report.results[name] = {**metrics, "train_seconds": seconds}
        progress.advance()
    return report
