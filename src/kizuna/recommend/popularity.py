"""Popularity: the products most customers chose. The baseline every model must beat, and the cold-start
fallback."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData


class Popularity(Recommender):
    """Ranks products by how many distinct customers interacted with them.

    Args:
        half_life_days: when set, recent interactions count more ("trending"): an interaction this many
            days before the newest one counts half. Interactions without a time count fully.
    """

    name = "popularity"

    def __init__(self, half_life_days: float | None = None) -> None:
        super().__init__()
        self.half_life_days = half_life_days
        self.item_scores: FloatArray | None = None

    def params(self) -> dict[str, Any]:
        return {"half_life_days": self.half_life_days}

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        assert self.popularity is not None
        if self.half_life_days is None:
            self.item_scores = self.popularity.copy()
            return
        times = data.interactions.time
        newest = np.nanmax(times) if np.isfinite(times).any() else 0.0
        age_days = np.where(np.isfinite(times), (newest - times) / 86_400.0, 0.0)
        decay = np.power(0.5, age_days / self.half_life_days)
        scores = np.bincount(data.interactions.item, weights=decay, minlength=data.n_items)
        self.item_scores = np.asarray(scores, dtype=np.float64)

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.item_scores is not None
        return np.tile(self.item_scores, (len(rows), 1))

    def _fallback_scores(self) -> FloatArray:
        assert self.item_scores is not None
        return self.item_scores

    def _state(self) -> dict[str, Any]:
        return {"item_scores": self.item_scores}

    def _restore(self, state: dict[str, Any]) -> None:
        self.item_scores = state["item_scores"]
