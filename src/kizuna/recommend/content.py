"""Content-based recommendations: products whose texts read alike, for Japanese and English alike.

Each product becomes one text (title, description, category path, brand and attributes), normalised with
NFKC and lower-cased so full-width and half-width forms, and upper and lower case, meet. Japanese is
written without spaces between words, so the main representation is TF-IDF over character 2- and 3-grams
within word boundaries (``char_wb``): it needs no tokenizer dictionary and works for English too. A
word-level TF-IDF is blended in because whole English words are sharper evidence than their fragments.
The category path is repeated in the text so that products of the same category count as more alike.

Only each product's ``neighbours`` most similar products are kept, so the artefact stays sparse and holds
similarities, never the texts. They are found by ``sparse_dot_topn``, which multiplies the TF-IDF matrix by
its transpose keeping only each row's best products, on every core. In a large catalogue, n-grams and
words that most products share (a department name in tens of thousands of texts) are left out first: they
hardly tell a product's 50 nearest apart, yet every pair sharing one costs a multiplication; see
:data:`COMMON_TERMS`. A customer's score for a product is the weighted sum of its similarity to
what they chose, so products nobody has bought yet are recommended as soon as they are in the catalogue.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sparse_dot_topn import sp_matmul_topn
from sqlalchemy import select

from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason
from kizuna.store.engine import Store
from kizuna.store.tables import Product

#: Times the category path appears in a product's text: products of one category count as more alike.
CATEGORY_REPEAT = 3
#: In a catalogue of more than :data:`PRUNE_ABOVE` products, a term (n-gram or word) found in more than
#: this share of the products is left out of the similarity. On the first 30,000 of the Complete Journey's
#: products content fits in 18 s instead of 483 s, and all 92,331 in 80 s (benchmarks/
#: content_similarity.py); smaller catalogues keep every term.
COMMON_TERMS = 0.05
PRUNE_ABOVE = 20_000
_CATEGORY_SEPARATORS = (">", "/", "|", "›", "»", "\\")


def normalise(text: str) -> str:
    """NFKC-normalised, lower-cased text with runs of white space made single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def product_text(
    title: str,
    description: str | None = None,
    category_path: str | None = None,
    brand: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> str:
    """The text a product is compared by: its fields joined, the category path repeated for weight."""
    parts = [title, description or "", brand or ""]
    if category_path:
        path = unicodedata.normalize("NFKC", category_path)
        for separator in _CATEGORY_SEPARATORS:
            path = path.replace(separator, " ")
        parts.extend([path] * CATEGORY_REPEAT)
    for key, value in (attributes or {}).items():
        values = value if isinstance(value, list) else [value]
        # Scalars only: nested structures are rarely descriptive words.
        words = [str(v) for v in values if isinstance(v, str | int | float) and not isinstance(v, bool)]
        if words:
            parts.append(f"{key} {' '.join(words)}")
    return normalise(" ".join(p for p in parts if p))


def load_item_texts(store: Store, product_ids: Sequence[int] | IntArray) -> list[str]:
    """The text of each product in ``product_ids``, in that order ("" for ids not in the store)."""
    wanted = [int(p) for p in product_ids]
    found: dict[int, str] = {}
    columns = (Product.id, Product.title, Product.description, Product.category_path, Product.brand,
               Product.attributes)  # fmt: skip
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 10_000):
            chunk = wanted[start : start + 10_000]
            for pid, title, description, category, brand, attributes in conn.execute(
                select(*columns).where(Product.id.in_(chunk))
            ):
                found[pid] = product_text(title, description, category, brand, attributes)
    return [found.get(p, "") for p in wanted]


class ContentBased(Recommender):
    """Item-kNN on the similarity of product texts (character n-gram and word TF-IDF, cosine).

    Args:
        texts: product id → text (see :func:`product_text`); needed by ``fit``, not saved in artefacts.
        neighbours: most similar products kept per product.
        word_weight: share of the word-level TF-IDF in the similarity (the rest is character n-grams).
        min_similarity: similarities at or below this are dropped.
    """

    name = "content"
    carries_over = True

    def __init__(
        self,
        texts: Mapping[int, str] | None = None,
        neighbours: int = 50,
        word_weight: float = 0.3,
        min_similarity: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 <= word_weight <= 1.0:
            raise ValueError(f"word_weight must be between 0 and 1, got {word_weight}")
        self.texts = texts
        self.neighbours = neighbours
        self.word_weight = word_weight
        self.min_similarity = min_similarity
        self.similarity: sparse.csr_matrix | None = None
        self.weights: sparse.csr_matrix | None = None
        self._given: sparse.csr_matrix | None = None

    @classmethod
    def from_store(cls, store: Store, **params: Any) -> Self:
        """A model whose texts are read from every product in ``store``."""
        with store.engine.connect() as conn:
            ids = list(conn.execute(select(Product.id)).scalars())
        return cls(texts=dict(zip(ids, load_item_texts(store, ids), strict=True)), **params)

    def params(self) -> dict[str, Any]:
        return {
            "neighbours": self.neighbours,
            "word_weight": self.word_weight,
            "min_similarity": self.min_similarity,
        }

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        if self.texts is None:
            raise ValueError(
                "ContentBased needs product texts to fit: pass texts={product_id: text} "
                "or build it with ContentBased.from_store(store)"
            )
        if self._given is not None:
            self.similarity, self._given = self._given, None
        else:
            docs = [normalise(self.texts.get(int(p), "")) for p in data.product_ids]
            features = self._features(docs)
            self.similarity = _top_similar(features, self.neighbours, self.min_similarity)
        self.weights = matrix.tocsr().astype(np.float64)

    def refit(self, data: TrainingData, **changes: Any) -> Recommender:
        """As :meth:`Recommender.refit`; with the same products and texts, the text similarities are kept
        (they do not depend on who chose what)."""
        model = ContentBased(texts=self.texts, **{**self.params(), **changes})
        known = self.product_ids
        if (
            not changes
            and self.similarity is not None
            and known is not None
            and np.array_equal(known, data.product_ids)
        ):
            model._given = self.similarity
        return model.fit(data)

    def _features(self, docs: list[str]) -> sparse.csr_matrix:
        """Rows whose dot products are the blended cosine similarity of the documents."""
        blocks = []
        common: float | int = int(COMMON_TERMS * len(docs)) if len(docs) > PRUNE_ABOVE else 1.0
        for share, vectorizer in (
            (
                1.0 - self.word_weight,
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), lowercase=False, max_df=common),
            ),
            (self.word_weight, TfidfVectorizer(analyzer="word", lowercase=False, max_df=common)),
        ):
            if share <= 0:
                continue
            try:
                rows = sparse.csr_matrix(vectorizer.fit_transform(docs), dtype=np.float64)
            except ValueError:
                # No term at all (every text empty or too short): this part adds nothing.
                continue
            blocks.append(rows * np.sqrt(share))
        if not blocks:
            return sparse.csr_matrix((len(docs), 1), dtype=np.float64)
        return sparse.hstack(blocks, format="csr")

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.weights is not None and self.similarity is not None
        return np.asarray((self.weights[rows] @ self.similarity).todense(), dtype=np.float64)

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.weights is not None and self.similarity is not None and self.product_ids is not None
        start, end = self.weights.indptr[row], self.weights.indptr[row + 1]
        chosen, weight = self.weights.indices[start:end], self.weights.data[start:end]
        if len(chosen) == 0:
            return [Reason("popular") for _ in items]
        # The chosen product that contributed most to each item's score drives the reason.
        block = np.asarray(self.similarity[chosen][:, items].todense()) * weight[:, None]
        reasons = []
        for k in range(len(items)):
            if block[:, k].max() <= 0:
                reasons.append(Reason("popular"))
            else:
                reasons.append(Reason("similar", (int(self.product_ids[chosen[int(block[:, k].argmax())]]),)))
        return reasons

    def _item_similarity(self, col: int) -> FloatArray:
        assert self.similarity is not None
        return np.asarray(self.similarity[col].todense(), dtype=np.float64).ravel()

    def _state(self) -> dict[str, Any]:
        return {"similarity": self.similarity, "weights": self.weights}

    def _restore(self, state: dict[str, Any]) -> None:
        self.similarity = state["similarity"]
        self.weights = state["weights"]


def _top_similar(features: sparse.csr_matrix, k: int, floor: float) -> sparse.csr_matrix:
    """The ``k`` most similar other rows of each row (cosine via dot products), above ``floor``."""
    n = features.shape[0]
    if n == 0 or k <= 0:
        return sparse.csr_matrix((n, n), dtype=np.float64)
    # One more than wanted: a product is its own best match, and is dropped below.
    found = sp_matmul_topn(
        features, features.T.tocsr(), top_n=min(k + 1, n), threshold=floor, sort=True,
        n_threads=os.cpu_count() or 1,
    )  # fmt: skip
    found = sparse.csr_matrix(found, dtype=np.float64)
    counts = np.diff(found.indptr)
    rows = np.repeat(np.arange(n), counts)
    not_self = found.indices != rows
    # Rank among the row's other products (rows come best first); keep the best k.
    running = np.cumsum(not_self)
    before_row = np.r_[0, running][found.indptr[:-1]]
    keep = not_self & (running - 1 - np.repeat(before_row, counts) < k)
    return sparse.csr_matrix((found.data[keep], (rows[keep], found.indices[keep])), shape=(n, n))
