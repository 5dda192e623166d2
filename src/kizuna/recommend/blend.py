"""Blend: a hybrid of several recommenders with weights learnt on a validation split of the training data.

Each component scores every product for a customer; scores are scaled per customer by the component's
largest absolute score, then summed with the learnt weights. The default components cover what no single
model does: ``repurchase`` for what customers buy again; three collaborative models for discovery, which
err in different places and so add up (EASE's item-item weights with products chosen in one visit, where its
dense model fits the catalogue; ALS's low-rank factors; the spectral filter's broad tastes); trending
``popularity`` for what is selling now; and ``content`` (when product texts are known) for products nobody
has bought yet.

Weights are learnt without the test data: the training data is split once more (its last ``valid_days`` when
interactions are timed, else a per-customer random share), every component is fitted on the earlier part
(EASE's and ALS's regularisation searched there on their own nDCG@k), and a coordinate search over a small
grid of weights maximises nDCG@k of the blend on the held-out part. Whether purchases of
products bought before count is read from that split too (``repeats``): in groceries they dominate, in
ratings they never occur. Components whose weight comes out zero are dropped. Customers the model has never
seen get the components' cold-start scores (popularity); each product's reason is that of the component
contributing most to its score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy import select

from kizuna.recommend.base import FloatArray, IntArray, Recommendations, Recommender
from kizuna.recommend.blend_weights import learn_weights, scaled
from kizuna.recommend.content import ContentBased, load_item_texts
from kizuna.recommend.data import TrainingData
from kizuna.recommend.ease import EASE
from kizuna.recommend.popularity import Popularity
from kizuna.recommend.reasons import Reason
from kizuna.store.categories import category_prefix_of, in_category
from kizuna.store.engine import Store
from kizuna.store.tables import Product

BoolArray = npt.NDArray[np.bool_]

#: Parameters of the default components, unless ``component_params`` says otherwise.
COMPONENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "repurchase": {"half_life_days": 90.0},
    "popularity": {"half_life_days": 30.0},
}


def default_components(n_items: int, *, has_texts: bool = False) -> list[str]:
    """The components for a catalogue of ``n_items``: EASE where its dense model fits, then ALS and the
    spectral filter, which scale to any catalogue."""
    item_item = ["ease"] if n_items <= EASE().max_items else []
    return ["repurchase", *item_item, "als", "spectral", "popularity"] + (["content"] if has_texts else [])


class Blend(Recommender):
    """Args:
    components: algorithm names to combine; default :func:`default_components`.
    weights: one per component; learnt on a validation split when not given.
    component_params: parameters per component name (over :data:`COMPONENT_DEFAULTS`).
    valid_days: length of the validation period when interactions are timed.
    valid_ratio: share of each customer's interactions held out when they are not.
    k: the cut-off whose nDCG the weights maximise.
    repeats: whether products bought before count as right answers; None reads it from the data (a fifth or
        more of held-out choices were bought before).
    max_valid_users: customers sampled for validation, to bound its time and memory.
    seed: for the validation split and sample.
    exclude_categories: categories never recommended (a category and everything below it, as segments and
        rules match them: ``食品`` holds ``食品/茶`` but not ``食品雑貨``).
    texts: product id → text, for the content component (``from_store`` reads them).
    categories: product id → category path, for ``exclude_categories`` (``from_store`` reads them).
    """

    name = "blend"

    def __init__(
        self,
        components: Sequence[str] | None = None,
        weights: Sequence[float] | None = None,
        component_params: Mapping[str, Mapping[str, Any]] | None = None,
        valid_days: float = 28.0,
        valid_ratio: float = 0.2,
        k: int = 10,
        repeats: bool | None = None,
        max_valid_users: int = 1_000,
        seed: int = 42,
        exclude_categories: Sequence[str] = (),
        texts: Mapping[int, str] | None = None,
        categories: Mapping[int, str] | None = None,
    ) -> None:
        super().__init__()
        self.components = list(components) if components is not None else None
        self.weights = [float(w) for w in weights] if weights is not None else None
        self.component_params = {name: dict(p) for name, p in (component_params or {}).items()}
        self.valid_days = valid_days
        self.valid_ratio = valid_ratio
        self.k = k
        self.repeats = repeats
        self.max_valid_users = max_valid_users
        self.seed = seed
        self.exclude_categories = list(exclude_categories)
        self.texts = texts
        self.categories = categories
        self.models: dict[str, Recommender] = {}
        self.excluded: BoolArray | None = None
        self._last: tuple[dict[int, int], dict[str, FloatArray]] | None = None
        self._static: FloatArray | None = None

    @classmethod
    def from_store(cls, store: Store, **params: Any) -> Self:
        """A blend whose content component and category filter read every product in ``store``."""
        with store.engine.connect() as conn:
            rows = conn.execute(select(Product.id, Product.category_path)).all()
        ids = [int(pid) for pid, _ in rows]
        texts = dict(zip(ids, load_item_texts(store, ids), strict=True))
        categories = {int(pid): path for pid, path in rows if path}
        return cls(texts=texts, categories=categories, **params)

    def params(self) -> dict[str, Any]:
        return {
            "components": self.components,
            "weights": self.weights,
            "component_params": self.component_params,
            "valid_days": self.valid_days,
            "valid_ratio": self.valid_ratio,
            "k": self.k,
            "repeats": self.repeats,
            "max_valid_users": self.max_valid_users,
            "seed": self.seed,
            "exclude_categories": self.exclude_categories,
        }

    # -- building and fitting -------------------------------------------------------------------
    def _build(self, name: str) -> Recommender:
        from kizuna.recommend.registry import algorithm

        params = {**COMPONENT_DEFAULTS.get(name, {}), **self.component_params.get(name, {})}
        if name == "content":
            return ContentBased(texts=self.texts, **params)
        if name == self.name:
            raise ValueError("a blend cannot contain itself")
        return algorithm(name)(**params)

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        names = self.components or default_components(data.n_items, has_texts=bool(self.texts))
        if "content" in names and not self.texts:
            names = [n for n in names if n != "content"]
        carried: dict[str, Recommender] = {}
        if self.weights is None or len(self.weights) != len(names):
            learnt = learn_weights(self, data, names)
            self.weights, self.repeats, carried = learnt.weights, learnt.repeats, learnt.carried
            for name, chosen in learnt.params.items():
                self.component_params[name] = {**self.component_params.get(name, {}), **chosen}
            self.metrics["validation"] = learnt.report()
        kept = [(n, w) for n, w in zip(names, self.weights, strict=True) if w > 0] or [(names[0], 1.0)]
        self.components = [n for n, _ in kept]
        self.weights = [w for _, w in kept]
        self.models = {
            n: carried[n].refit(data) if n in carried else self._build(n).fit(data) for n in self.components
        }
        self._static = None
        self.excluded = self._excluded_mask(data.product_ids)

    def _excluded_mask(self, product_ids: IntArray) -> BoolArray:
        """Products in an excluded category, matched as everywhere in kizuna (:func:`in_category`)."""
        mask = np.zeros(len(product_ids), dtype=bool)
        prefixes = [p for p in self.exclude_categories if category_prefix_of(p)]
        if prefixes and self.categories:
            for col, pid in enumerate(product_ids.tolist()):
                path = self.categories.get(int(pid))
                if path and any(in_category(path, p) for p in prefixes):
                    mask[col] = True
        return mask

    # -- scoring --------------------------------------------------------------------------------
    def recommend(
        self,
        customer_ids: int | Sequence[int] | npt.ArrayLike,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: Sequence[int] | npt.ArrayLike | None = None,
    ) -> Recommendations:
        try:
            return super().recommend(customer_ids, n, exclude_seen=exclude_seen, candidates=candidates)
        finally:
            self._last = None  # the scored chunk is only needed while its rows are explained

    def _weighted(self, rows: IntArray) -> dict[str, FloatArray]:
        assert self.weights is not None and self.components is not None
        parts: dict[str, FloatArray] = {}
        for name, weight in zip(self.components, self.weights, strict=True):
            model = self.models[name]
            if isinstance(model, Popularity) and model.shares is None:
                # The same row for everyone: scaled once, broadcast without copying.
                if self._static is None:
                    self._static = scaled(model._fallback_scores()[None, :], weight)[0]
                parts[name] = np.broadcast_to(self._static, (len(rows), len(self._static)))
            else:
                parts[name] = scaled(model._score(rows), weight, in_place=True)
        return parts

    def _score(self, rows: IntArray) -> FloatArray:
        parts = self._weighted(rows)
        # recommend() explains the rows it just scored: keep their parts (one chunk, bounded in size).
        self._last = ({int(r): k for k, r in enumerate(rows.tolist())}, parts)
        stack = list(parts.values())
        total: FloatArray = stack[0] + stack[1] if len(stack) > 1 else stack[0].copy()
        for part in stack[2:]:
            total += part
        if self.excluded is not None and self.excluded.any():
            total[:, self.excluded] = -np.inf
        return total

    def _fallback_scores(self) -> FloatArray:
        assert self.weights is not None and self.components is not None
        total = np.zeros(len(self._fitted()[0]))
        for n, w in zip(self.components, self.weights, strict=True):
            total += w * scaled(self.models[n]._fallback_scores()[None, :])[0]
        if self.excluded is not None:
            total[self.excluded] = -np.inf
        return total

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        last = self._last  # one read: another thread may replace it meanwhile
        if last is not None and row in last[0]:
            at, parts = last[0][row], last[1]
        else:
            at, parts = 0, self._weighted(np.array([row], dtype=np.int64))
        names = list(parts)
        contribution = np.stack([parts[n][at, items] for n in names])
        leader = contribution.argmax(axis=0)
        reasons: list[Reason | None] = [None] * len(items)
        for c in np.unique(leader).tolist():  # one call per component, for the items it leads
            led = np.flatnonzero(leader == c)
            for k, reason in zip(led.tolist(), self.models[names[c]]._explain(row, items[led]), strict=True):
                reasons[k] = reason
        return [r if r is not None else Reason("popular") for r in reasons]

    def _item_similarity(self, col: int) -> FloatArray:
        for name in self.components or ():
            if name not in ("repurchase", "popularity"):
                return self.models[name]._item_similarity(col)
        return super()._item_similarity(col)

    # -- artefacts ------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"excluded": self.excluded}
        for name, model in self.models.items():
            state |= {f"{name}__{key}": value for key, value in model._state().items()}
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        self.excluded = np.asarray(state["excluded"], dtype=bool)
        self._static = None
        self.models = {}
        for name in self.components or ():
            model = self._build(name)
            model.customer_ids, model.product_ids = self.customer_ids, self.product_ids
            model.seen, model.popularity = self.seen, self.popularity
            model._index()
            prefix = f"{name}__"
            model._restore({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
            self.models[name] = model
