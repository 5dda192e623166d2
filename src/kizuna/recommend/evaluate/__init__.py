"""Offline evaluation of recommenders: train/test splits and ranking metrics, as pure functions."""

from kizuna.recommend.evaluate.metrics import (
    catalog_coverage,
    evaluate_lists,
    map_at_k,
    ndcg_at_k,
    novelty,
    precision_at_k,
    recall_at_k,
)
from kizuna.recommend.evaluate.splits import (
    Interactions,
    leave_last_out,
    stratified_split,
    temporal_split,
    temporal_split_last,
)

__all__ = [
    "Interactions",
    "catalog_coverage",
    "evaluate_lists",
    "leave_last_out",
    "map_at_k",
    "ndcg_at_k",
    "novelty",
    "precision_at_k",
    "recall_at_k",
    "stratified_split",
    "temporal_split",
    "temporal_split_last",
]
