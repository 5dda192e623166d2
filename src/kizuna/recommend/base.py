"""The interface every recommender shares: fit, recommend with reasons, similar items, save and load.

Algorithms implement three small hooks (``_fit``, ``_score``, ``_explain``); filtering of seen items and of
candidates, top-n selection, batching, cold-start fallback and artefacts are written once, here.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt
from scipy import sparse

from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason
from kizuna.store.types import utcnow

if TYPE_CHECKING:
    from kizuna.store.engine import Store

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Artefact format; bump when the layout of saved models changes.
ARTEFACT_FORMAT = 1
#: Cells of the dense score block scored at once (rows × items), to bound memory.
SCORE_BLOCK = 20_000_000


class Recommendations(NamedTuple):
    """Recommended product ids, their scores (best first) and one reason per product."""

    ids: Any
    scores: Any
    reasons: Any


class Recommender(ABC):
    """Base of every algorithm. Hyperparameters are plain attributes; learned state starts as ``None``."""

    #: The algorithm's name, as used by ``kizuna train --algorithm`` and in artefacts.
    name: ClassVar[str]
    #: Whether :meth:`refit` on other data reuses work that does not depend on the data (then a blend
    #: refits the model it validated instead of fitting a new one).
    carries_over: ClassVar[bool] = False

    def __init__(self) -> None:
        self.customer_ids: IntArray | None = None
        self.product_ids: IntArray | None = None
        self.seen: sparse.csr_matrix | None = None
        self.popularity: FloatArray | None = None
        self.snapshot: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self._row_of: dict[int, int] = {}
        self._column_of: dict[int, int] = {}

    @classmethod
    def from_store(cls, store: Store, **params: Any) -> Self:
        """A new model with ``params`` and whatever else it reads from the store (product texts ...)."""
        return cls(**params)

    # -- hooks for algorithms -------------------------------------------------------------------
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Hyperparameters by name (what ``__init__`` takes)."""

    @abstractmethod
    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        """Learn from the users × items weight matrix."""

    @abstractmethod
    def _score(self, rows: IntArray) -> FloatArray:
        """Scores of every item for known users ``rows``: shape (len(rows), n_items); higher is better."""

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        """One reason per recommended item for known user ``row``; default: popularity."""
        return [Reason("popular") for _ in items]

    def _fallback_scores(self) -> FloatArray:
        """Scores for customers the model has not seen (cold start); default: distinct customers per item."""
        return self._fitted()[2]

    def _state(self) -> dict[str, Any]:
        """Learned arrays to save (NumPy arrays or SciPy sparse matrices)."""
        return {}

    def _restore(self, state: dict[str, Any]) -> None:  # noqa: B027 - optional hook, nothing to restore
        """Put back what ``_state`` saved."""

    # -- shared behaviour -----------------------------------------------------------------------
    def fit(self, data: TrainingData) -> Self:
        """Learn from ``data``; returns self."""
        matrix = data.matrix()
        self.customer_ids = data.customer_ids
        self.product_ids = data.product_ids
        binary = matrix.copy()
        binary.data = np.ones_like(binary.data)
        self.seen = binary.tocsr()
        self.popularity = np.asarray(binary.sum(axis=0), dtype=np.float64).ravel()
        self.snapshot = {**data.snapshot, "trained_at": utcnow().isoformat()}
        self._index()
        self._fit(data, matrix)
        return self

    def refit(self, data: TrainingData, **changes: Any) -> Recommender:
        """A new model with this one's hyperparameters but ``changes``, fitted on ``data``.

        Searches over a hyperparameter call this on one model for every value tried, so a model can reuse
        what does not depend on the changed value (EASE its co-occurrence counts), and a model that
        :attr:`carries_over` reuses what does not depend on the data (content its text similarities); by
        default it fits a new model.
        """
        return type(self)(**{**self.params(), **changes}).fit(data)

    def _index(self) -> None:
        assert self.customer_ids is not None and self.product_ids is not None
        self._row_of = {int(c): r for r, c in enumerate(self.customer_ids)}
        self._column_of = {int(p): i for i, p in enumerate(self.product_ids)}

    def _fitted(self) -> tuple[IntArray, sparse.csr_matrix, FloatArray]:
        if self.product_ids is None or self.seen is None or self.popularity is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit() or load() first")
        return self.product_ids, self.seen, self.popularity

    def recommend(
        self,
        customer_ids: int | Sequence[int] | npt.ArrayLike,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: Sequence[int] | npt.ArrayLike | None = None,
    ) -> Recommendations:
        """Top ``n`` products for one customer id or many.

        Unknown customers (cold start) get the most popular products. With ``candidates`` (product ids),
        only those are ranked. One id gives 1-D arrays and a list of reasons; many give lists of those.
        """
        product_ids, seen, _ = self._fitted()
        single = np.ndim(customer_ids) == 0
        wanted = np.atleast_1d(np.asarray(customer_ids, dtype=np.int64))
        allowed: npt.NDArray[np.bool_] | None = None
        if candidates is not None:
            allowed = np.zeros(len(product_ids), dtype=bool)
            cols = [self._column_of[int(p)] for p in np.atleast_1d(candidates) if int(p) in self._column_of]
            allowed[cols] = True
        rows = np.array([self._row_of.get(int(c), -1) for c in wanted], dtype=np.int64)
        ids: list[IntArray] = []
        scores: list[FloatArray] = []
        reasons: list[list[Reason]] = []
        block = max(1, SCORE_BLOCK // max(len(product_ids), 1))
        for start in range(0, len(rows), block):
            chunk = rows[start : start + block]
            known = chunk >= 0
            table = np.empty((len(chunk), len(product_ids)), dtype=np.float64)
            if known.any():
                table[known] = self._score(chunk[known])
            if not known.all():
                table[~known] = self._fallback_scores()
            for k, row in enumerate(chunk):
                s = table[k]
                if row >= 0 and exclude_seen:
                    s[seen.indices[seen.indptr[row] : seen.indptr[row + 1]]] = -np.inf
                if allowed is not None:
                    s[~allowed] = -np.inf
                top = _top(s, n)
                ids.append(product_ids[top])
                scores.append(s[top])
                if row >= 0:
                    reasons.append(self._explain(int(row), top))
                else:
                    reasons.append([Reason("popular_new") for _ in top])
        if single:
            return Recommendations(ids[0], scores[0], reasons[0])
        return Recommendations(ids, scores, reasons)

    def similar_items(self, item_ids: int | Sequence[int] | npt.ArrayLike, n: int = 10) -> Recommendations:
        """Products most like each of ``item_ids`` (default: cosine of who interacted with them)."""
        product_ids = self._fitted()[0]
        single = np.ndim(item_ids) == 0
        wanted = np.atleast_1d(np.asarray(item_ids, dtype=np.int64))
        ids: list[IntArray] = []
        scores: list[FloatArray] = []
        reasons: list[list[Reason]] = []
        for item in wanted:
            col = self._column_of.get(int(item))
            if col is None:
                ids.append(np.empty(0, np.int64))
                scores.append(np.empty(0))
                reasons.append([])
                continue
            s = self._item_similarity(col)
            s[col] = -np.inf
            top = _top(s, n)
            ids.append(product_ids[top])
            scores.append(s[top])
            reasons.append([Reason("similar", (int(item),)) for _ in top])
        if single:
            return Recommendations(ids[0], scores[0], reasons[0])
        return Recommendations(ids, scores, reasons)

    def _item_similarity(self, col: int) -> FloatArray:
        _, seen, popularity = self._fitted()
        items = seen.T.tocsr()
        overlap = np.asarray((items @ items[col].T).todense(), dtype=np.float64).ravel()
        norm = np.sqrt(popularity * popularity[col])
        with np.errstate(divide="ignore", invalid="ignore"):
            cosine = np.where(norm > 0, overlap / norm, 0.0)
        return cosine

    # -- artefacts ------------------------------------------------------------------------------
    def save(self, path: Path | str, *, metrics: dict[str, Any] | None = None) -> Path:
        """Write a versioned artefact (one ``.npz``): arrays, parameters, data snapshot and metrics."""
        product_ids, seen, popularity = self._fitted()
        assert self.customer_ids is not None
        if metrics:
            self.metrics.update(metrics)
        meta = {
            "format": ARTEFACT_FORMAT,
            "algorithm": self.name,
            "params": self.params(),
            "snapshot": self.snapshot,
            "metrics": self.metrics,
            "saved_at": utcnow().isoformat(),
        }
        arrays: dict[str, Any] = {
            "customer_ids": self.customer_ids,
            "product_ids": product_ids,
            "popularity": popularity,
        }
        state = {"seen": seen, **self._state()}
        for key, value in state.items():
            if sparse.issparse(value):
                csr = sparse.csr_matrix(value)
                arrays |= {f"{key}.data": csr.data, f"{key}.indices": csr.indices,
                           f"{key}.indptr": csr.indptr, f"{key}.shape": np.array(csr.shape)}  # fmt: skip
            else:
                arrays[key] = np.asarray(value)
        arrays["__meta__"] = np.array(json.dumps(meta, ensure_ascii=False))
        target = Path(path)
        if target.suffix != ".npz":
            target = target.with_suffix(".npz")
        target.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(target, **arrays)
        return target

    @classmethod
    def load(cls, path: Path | str) -> Recommender:
        """Read an artefact written by :meth:`save`, whatever the algorithm."""
        from kizuna.recommend.registry import algorithm

        with np.load(Path(path), allow_pickle=False) as npz:
            meta = json.loads(str(npz["__meta__"]))
            if meta.get("format") != ARTEFACT_FORMAT:
                raise ValueError(f"{path}: artefact format {meta.get('format')} is not {ARTEFACT_FORMAT}")
            arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
        model = algorithm(meta["algorithm"])(**meta["params"])
        model.customer_ids = arrays.pop("customer_ids")
        model.product_ids = arrays.pop("product_ids")
        model.popularity = arrays.pop("popularity")
        state: dict[str, Any] = {}
        for key in sorted({k.split(".")[0] for k in arrays}):
            if f"{key}.indptr" in arrays:
                shape = tuple(int(x) for x in arrays[f"{key}.shape"])
                state[key] = sparse.csr_matrix(
                    (arrays[f"{key}.data"], arrays[f"{key}.indices"], arrays[f"{key}.indptr"]), shape=shape
                )
            else:
                state[key] = arrays[key]
        model.seen = state.pop("seen")
        model.snapshot = meta["snapshot"]
        model.metrics = meta["metrics"]
        model._index()
        model._restore(state)
        return model


#: Below this many products, top-n selection partitions the whole score row at once.
_DIRECT_TOP = 4_096


def _top(scores: FloatArray, n: int) -> IntArray:
    """Indexes of the ``n`` highest finite scores, best first (ties: lower index first).

    On a large row the n-th best score is bounded from below first: the maxima of at least n blocks of the
    row are n distinct scores, so the n-th largest of them is no higher than the row's n-th best. Only scores
    at or above that bound are partitioned (a few dozen, not the whole catalogue), which is what keeps one
    customer's call under a millisecond with 50,000 products (benchmarks/recommend_serving.py).
    """
    if n <= 0 or len(scores) == 0:
        return np.empty(0, dtype=np.int64)
    candidates: IntArray | None = None
    if len(scores) > _DIRECT_TOP and len(scores) > 64 * n:
        blocks = max(4 * n, 64)
        starts = np.arange(0, len(scores), -(-len(scores) // blocks))
        maxima = np.maximum.reduceat(scores, starts)
        if len(maxima) > n:
            bound = np.partition(maxima, len(maxima) - n)[len(maxima) - n]
            if np.isfinite(bound):
                candidates = np.flatnonzero(scores >= bound)
    if candidates is None:
        candidates = np.arange(len(scores))
    values = scores[candidates]
    if len(candidates) > n:
        # The n-th best value; every better one is kept, and of those equal to it the lowest indexes.
        # Excluded products (-inf) sort last, so they only ever fill places no finite score can take.
        nth = np.partition(values, len(values) - n)[len(values) - n]
        better = values > nth
        tied = np.flatnonzero(values == nth)[: n - int(better.sum())]
        keep = np.concatenate([np.flatnonzero(better), tied])
        candidates, values = candidates[keep], values[keep]
    finite = np.isfinite(values)
    candidates, values = candidates[finite], values[finite]
    order = np.lexsort((candidates, -values))
    return candidates[order].astype(np.int64)


def cosine_to(vectors: FloatArray, row: int) -> FloatArray:
    """Cosine similarity of every row of ``vectors`` to row ``row`` (0 where either has no length)."""
    norms = np.linalg.norm(vectors, axis=1)
    dots = vectors @ vectors[row]
    denominator = norms * norms[row]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, dots / denominator, 0.0).astype(np.float64)
