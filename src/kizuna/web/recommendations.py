"""Recommended products for a web slot, from the trained models (loaded once per process) and the catalogue.

"For you" ranks products for the customer (cold start: popular products); a product page's related products
come from the model's ``similar_items``, the same for every visitor and therefore kept in memory per model
version. Out-of-stock products and the page's own product are left out. Each item carries what a card
shows: title, price, image, the product page's URL and the reason in the page's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.recommend.base import Recommender
from kizuna.recommend.reasons import Reason
from kizuna.scenarios.engine.recommendations import model
from kizuna.store.tables import Product
from kizuna.web.slots import SlotsFile

#: On a product page "similar" means "chosen by the same customers", not "like what you bought".
_RELATED = {
    "en": "customers who chose {title} also chose this",
    "ja": "「{title}」を選んだお客様はこちらも選んでいます",
}


def for_you(
    session: Session,
    slots: SlotsFile,
    algorithm: str,
    n: int,
    *,
    customer_id: int | None,
    personalised: bool,
    lang: str,
    folder: Path | None = None,
) -> list[dict[str, Any]]:
    """Top ``n`` products for the customer (popularity for unknown visitors or without consent)."""
    name = algorithm if personalised and customer_id is not None else "popularity"
    found = model(name, folder) or model(algorithm, folder)
    if found is None:
        return []
    ids, _scores, reasons = found.recommend(customer_id if customer_id is not None else -1, n=n * 2)
    return _describe(session, slots, list(zip(ids, reasons, strict=True)), n, lang, exclude=None)


def related(
    session: Session,
    slots: SlotsFile,
    algorithm: str,
    n: int,
    *,
    sku: str,
    lang: str,
    folder: Path | None = None,
) -> list[dict[str, Any]]:
    """Up to ``n`` products chosen by the customers who chose product ``sku``."""
    product_id = session.scalar(select(Product.id).where(Product.sku == sku))
    found = model(algorithm, folder)
    if product_id is None or found is None:
        return []
    pairs = _similar(found, int(product_id), n * 2)
    return _describe(session, slots, list(pairs), n, lang, exclude=int(product_id))


@lru_cache(maxsize=4_096)
def _similar(found: Recommender, product_id: int, n: int) -> tuple[tuple[int, Reason], ...]:
    # Keyed by the model object: a retrained model is loaded as a new object, so no stale answer is served.
    ids, _scores, reasons = found.similar_items(product_id, n=n)
    return tuple((int(i), r) for i, r in zip(ids, reasons, strict=True))


def _describe(
    session: Session,
    slots: SlotsFile,
    pairs: Sequence[tuple[Any, Reason]],
    n: int,
    lang: str,
    *,
    exclude: int | None,
) -> list[dict[str, Any]]:
    wanted = {int(i) for i, _ in pairs} | {i for _, r in pairs for i in r.item_ids}
    if exclude is not None:
        wanted.add(exclude)
    if not wanted:
        return []
    rows = session.execute(
        select(
            Product.id,
            Product.sku,
            Product.title,
            Product.price,
            Product.currency,
            Product.image_url,
            Product.in_stock,
        ).where(Product.id.in_(sorted(wanted)))
    ).all()
    products = {row.id: row for row in rows}
    titles = {row.id: row.title for row in rows}
    items: list[dict[str, Any]] = []
    for pid, reason in pairs:
        row = products.get(int(pid))
        if row is None or not row.in_stock or row.id == exclude:
            continue
        items.append(
            {
                "product_id": row.id,
                "sku": row.sku,
                "title": row.title,
                "price": None if row.price is None else float(row.price),
                "currency": row.currency,
                "image_url": row.image_url,
                "url": slots.url_of(row.sku),
                "reason": reason.code,
                "reason_text": _reason_text(reason, titles, lang, related=exclude is not None),
            }
        )
        if len(items) == n:
            break
    return items


def _reason_text(reason: Reason, titles: Mapping[int, str], lang: str, *, related: bool) -> str:
    lang = lang if lang in _RELATED else "en"
    if related and reason.code == "similar" and reason.item_ids:
        return _RELATED[lang].format(title=titles.get(reason.item_ids[0], ""))
    return reason.describe(titles, lang)


def with_urls(slots: SlotsFile, items: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Items a scenario wrote into a delivery, as a card shows them: the URL added, the reason in ``lang``."""
    out = []
    for item in items:
        shown = {k: v for k, v in item.items() if k != "reason_text"}
        texts = item.get("reason_text") or {}
        shown["reason_text"] = texts.get(lang) or texts.get("en") if isinstance(texts, Mapping) else None
        if item.get("sku"):
            shown["url"] = slots.url_of(str(item["sku"]))
        out.append(shown)
    return out
