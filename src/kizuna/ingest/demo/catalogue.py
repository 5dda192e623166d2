"""The demo brand's catalogue: a few hundred products with Japanese titles and descriptions.

Every category gets regular products (each variant in two sizes), one trial set (お試しセット) that leads to a
full-size product, and, for consumables, a subscription plan (定期便). Besides the product rows, the catalogue
keeps the arrays that order generation samples from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from kizuna.ingest.demo.categories import CATEGORIES, CLOSINGS, Category

#: Regular variants per category (each in two sizes).
VARIANTS_PER_CATEGORY = 12
REGULAR, TRIAL, SUBSCRIPTION = 0, 1, 2


@dataclass
class Catalogue:
    """The products, plus per-category sampling tables for order generation.

    ``members[c]`` lists category ``c``'s regular products (padded by repeating the last one);
    ``cheap_cdf[c]`` and ``premium_cdf[c]`` are cumulative choice probabilities over them for price-sensitive
    and price-insensitive customers.
    """

    rows: list[dict[str, Any]]
    skus: list[str]
    prices: np.ndarray
    category: np.ndarray
    kind: np.ndarray
    members: np.ndarray
    cheap_cdf: np.ndarray
    premium_cdf: np.ndarray
    trial: np.ndarray
    full_size: np.ndarray
    subscription: np.ndarray
    event_json: list[str]
    line_json: list[str]

    @property
    def paths(self) -> list[str]:
        """Category paths, in category-index order."""
        return [c.path for c in CATEGORIES]


def _yen(value: float) -> int:
    """Shop-style prices: whole hundreds less 20 yen (1,980), at least 380 yen."""
    return max(380, round(value / 100.0) * 100 - 20)


def _describe(rng: np.random.Generator, cat: Category, label: str) -> str:
    feature = cat.features[int(rng.integers(len(cat.features)))]
    usage = cat.usages[int(rng.integers(len(cat.usages)))]
    closing = CLOSINGS[int(rng.integers(len(CLOSINGS)))]
    return f"{cat.brand}の{label}です。{feature}。{usage}。{closing}"


def _label(cat: Category, variant: str) -> str:
    return f"{variant}{cat.joiner}{cat.noun}" if cat.noun else variant


def _regular_rows(rng: np.random.Generator, index: int, cat: Category) -> list[tuple[dict[str, Any], float]]:
    """Rows of one category's regular products, each with its popularity."""
    out: list[tuple[dict[str, Any], float]] = []
    chosen = rng.permutation(len(cat.variants))[:VARIANTS_PER_CATEGORY]
    popularity = 1.0 / (1.0 + rng.permutation(len(chosen))) ** 0.8
    low, high = cat.price
    for rank, (v, pop) in enumerate(zip(chosen.tolist(), popularity.tolist(), strict=True)):
        variant = cat.variants[v]
        label = _label(cat, variant)
        base = float(rng.uniform(low, high))
        for size_no, (size, factor) in enumerate(cat.sizes):
            sku = f"DEMO-{cat.code}-{rank + 1:02d}{'SL'[size_no]}"
            row: dict[str, Any] = {
                "sku": sku,
                "title": f"{cat.brand} {label} {size}",
                "description": _describe(rng, cat, label),
                "category_path": cat.path,
                "brand": cat.brand,
                "price": float(_yen(base * factor)),
                "currency": "JPY",
                "image_url": f"/static/demo/products/{sku.lower()}.jpg",
                # A few products are sold out right now; they were on sale before.
                "in_stock": bool(rng.random() > 0.04),
                "is_trial": False,
                "is_subscription": False,
                "attributes": {
                    cat.size_attribute: size,
                    "variant": variant,
                    "tags": [cat.tags[int(t)] for t in sorted(rng.permutation(len(cat.tags))[:2])],
                    "consumable": cat.subscribable,
                    "repurchase_days": cat.repurchase_days,
                    "category_index": index,
                },
            }
            # The larger size sells less often than the regular one.
            out.append((row, pop * (1.0 if size_no == 0 else 0.45)))
    return out


def build_catalogue(seed: int) -> Catalogue:
    """The demo catalogue for ``seed``: same seed, same products, prices and descriptions."""
    rng = np.random.default_rng([seed, 0])
    rows: list[dict[str, Any]] = []
    popularity: list[float] = []
    kinds: list[int] = []
    cats: list[int] = []
    trial: list[int] = []
    full_size: list[int] = []
    subscription: list[int] = []
    for index, cat in enumerate(CATEGORIES):
        regular = _regular_rows(rng, index, cat)
        start = len(rows)
        for row, pop in regular:
            rows.append(row)
            popularity.append(pop)
            kinds.append(REGULAR)
            cats.append(index)
        # The best seller in its regular size is what trial sets and subscriptions lead to.
        best = start + 2 * int(np.argmax([p for _, p in regular][::2]))
        best_row = rows[best]
        full_size.append(best)
        trial.append(len(rows))
        rows.append(_trial_row(cat, index, best_row))
        popularity.append(0.0)
        kinds.append(TRIAL)
        cats.append(index)
        if cat.subscribable:
            subscription.append(len(rows))
            rows.append(_subscription_row(cat, index, best_row))
            popularity.append(0.0)
            kinds.append(SUBSCRIPTION)
            cats.append(index)
        else:
            subscription.append(-1)
    prices = np.array([r["price"] for r in rows], dtype=float)
    category = np.array(cats, dtype=np.int64)
    kind = np.array(kinds, dtype=np.int64)
    members, cheap, premium = _sampling_tables(prices, category, kind, np.array(popularity))
    return Catalogue(
        rows=rows,
        skus=[r["sku"] for r in rows],
        prices=prices,
        category=category,
        kind=kind,
        members=members,
        cheap_cdf=cheap,
        premium_cdf=premium,
        trial=np.array(trial, dtype=np.int64),
        full_size=np.array(full_size, dtype=np.int64),
        subscription=np.array(subscription, dtype=np.int64),
        event_json=[_event_json(r) for r in rows],
        line_json=[f'"sku": "{r["sku"]}", "price": {int(r["price"])}' for r in rows],
    )


def _trial_row(cat: Category, index: int, best: dict[str, Any]) -> dict[str, Any]:
    sku = f"DEMO-{cat.code}-TRIAL"
    label = _label(cat, "") or cat.path.split("/")[1]
    return {
        "sku": sku,
        "title": f"{cat.brand} {label.strip()} お試しセット（7日分）",
        "description": (
            f"はじめての方限定の{label.strip()}お試しセットです。人気の「{best['title']}」を7日分、"
            "お手頃な価格でお試しいただけます。お一人さま1回限り、送料無料でお届けします。"
        ),
        "category_path": cat.path,
        "brand": cat.brand,
        "price": float(_yen(min(1000.0, best["price"] * 0.35))),
        "currency": "JPY",
        "image_url": f"/static/demo/products/{sku.lower()}.jpg",
        "in_stock": True,
        "is_trial": True,
        "is_subscription": False,
        "attributes": {
            "days": 7,
            "full_size_sku": best["sku"],
            "tags": ["お試し", "初回限定"],
            "category_index": index,
        },
    }


def _subscription_row(cat: Category, index: int, best: dict[str, Any]) -> dict[str, Any]:
    sku = f"DEMO-{cat.code}-SUB"
    return {
        "sku": sku,
        "title": f"【定期便】{best['title']} 毎月お届け",
        "description": (
            f"「{best['title']}」を毎月決まった日にお届けする定期便です。通常価格より15%お得で、"
            "送料は無料。お届け周期の変更やお休みはマイページからいつでもできます。"
        ),
        "category_path": cat.path,
        "brand": cat.brand,
        "price": float(int(best["price"] * 0.85 / 10) * 10),
        "currency": "JPY",
        "image_url": f"/static/demo/products/{sku.lower()}.jpg",
        "in_stock": True,
        "is_trial": False,
        "is_subscription": True,
        "attributes": {
            "interval_days": 30,
            "base_sku": best["sku"],
            "tags": ["定期便", "送料無料"],
            "category_index": index,
        },
    }


def _sampling_tables(
    prices: np.ndarray, category: np.ndarray, kind: np.ndarray, popularity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_cat = len(CATEGORIES)
    width = max(int(((category == c) & (kind == REGULAR)).sum()) for c in range(n_cat))
    members = np.zeros((n_cat, width), dtype=np.int64)
    cheap = np.ones((n_cat, width))
    premium = np.ones((n_cat, width))
    for c in range(n_cat):
        idx = np.flatnonzero((category == c) & (kind == REGULAR))
        rel = prices[idx] / np.median(prices[idx])
        for table, weights in (
            (cheap, popularity[idx] * rel**-1.5),
            (premium, popularity[idx] * rel**1.0),
        ):
            table[c, : len(idx)] = np.cumsum(weights) / weights.sum()
        members[c, : len(idx)] = idx
        members[c, len(idx) :] = idx[-1]
    return members, cheap, premium


def _event_json(row: dict[str, Any]) -> str:
    """The product's fields as Segment's ecommerce spec names them, pre-serialised for event properties.

    Kept short on purpose: events are the biggest table, and the product table has the rest.
    """
    body = json.dumps(
        {
            "sku": row["sku"],
            "name": row["title"],
            "category": row["category_path"],
            "price": int(row["price"]),
        },
        ensure_ascii=False,
    )
    return body[1:-1]
