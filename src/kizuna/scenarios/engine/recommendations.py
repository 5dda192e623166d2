"""Recommendations for a batch of sends, from trained artefacts loaded once per worker.

A send that asks for recommendations gets them only if a model was trained (``kizuna train``): without one the
request is recorded in the payload with no items, and the channel can fall back to its template's default.
Consent is checked here, at the point of use: customers who refused personalisation get the popularity model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.privacy.consent import Purpose, consented
from kizuna.recommend.base import Recommender
from kizuna.recommend.service import models_dir
from kizuna.scenarios.definition import Recommend
from kizuna.store.tables import Product

#: Loaded artefacts by path, with the file's modification time (a retrained model is picked up).
_models: dict[Path, tuple[float, Recommender]] = {}


def model(name: str, folder: Path | None = None) -> Recommender | None:
    """The trained model ``name`` (``default``, ``blend`` ...), loaded once; ``None`` when not trained."""
    path = (folder or models_dir()) / f"{name}.npz"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    cached = _models.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, Recommender.load(path))
        _models[path] = cached
    return cached[1]


def recommend_batch(
    session: Session,
    spec: Recommend,
    customer_ids: Sequence[int],
    now: Any,
    *,
    similar_to: dict[int, int] | None = None,
    folder: Path | None = None,
) -> dict[int, dict[str, Any]]:
    """Per customer, the request (algorithm, n) and the recommended items (product id, score, reason)."""
    request: dict[str, Any] = {"algorithm": spec.algorithm, "n": spec.n}
    out = {cid: {**request, "items": []} for cid in customer_ids}
    personalised = consented(session, customer_ids, Purpose.PERSONALISATION, now)
    in_stock = list(session.scalars(select(Product.id).where(Product.in_stock.is_(True))))
    for name, group in (
        (spec.algorithm, [c for c in customer_ids if c in personalised]),
        ("popularity", [c for c in customer_ids if c not in personalised]),
    ):
        found = model(name, folder) if group else None
        if found is None:
            continue
        seeds = similar_to or {}
        plain = [c for c in group if not (spec.similar_to_trigger and c in seeds)]
        if plain:
            ids, scores, reasons = found.recommend(plain, n=spec.n, candidates=in_stock)
            for cid, i, s, r in zip(plain, ids, scores, reasons, strict=True):
                out[cid]["items"] = _items(i, s, r)
                out[cid]["model"] = name
        for cid in (c for c in group if c not in plain):
            i, s, r = found.similar_items(seeds[cid], n=spec.n)
            out[cid]["items"] = _items(i, s, r)
            out[cid]["model"] = name
    _describe(session, out)
    return out


def _items(ids: Any, scores: Any, reasons: Any) -> list[dict[str, Any]]:
    return [
        {"product_id": int(i), "score": float(s) if np.isfinite(s) else 0.0, "reason": r.code, "_reason": r}
        for i, s, r in zip(ids, scores, reasons, strict=True)
    ]


def _describe(session: Session, out: dict[int, dict[str, Any]]) -> None:
    """Fill each item with what a piece shows: SKU, title, price, currency, image and the reason in words
    (English and Japanese), as the catalogue has them now; the delivery keeps that snapshot."""
    items = [item for request in out.values() for item in request["items"]]
    wanted = {item["product_id"] for item in items} | {i for item in items for i in item["_reason"].item_ids}
    if not wanted:
        return
    rows = session.execute(
        select(
            Product.id, Product.sku, Product.title, Product.price, Product.currency, Product.image_url
        ).where(Product.id.in_(sorted(wanted)))
    ).all()
    products = {row.id: row for row in rows}
    titles = {row.id: row.title for row in rows}
    for item in items:
        reason = item.pop("_reason")
        row = products.get(item["product_id"])
        if row is not None:
            item |= {
                "sku": row.sku,
                "title": row.title,
                "price": None if row.price is None else float(row.price),
            }
            item |= {"currency": row.currency, "image_url": row.image_url}
        item["reason_text"] = {lang: reason.describe(titles, lang) for lang in ("en", "ja")}
