"""The discrete evidence of the Bayesian-network recommender: customer attributes, behaviour and item cells.

Every variable is a short label so that a reason can name it ("age 30-39", "favourite category Drama").
Numbers are cut into bands here: age into decades, purchase count and spend into quantile bands over the
customers, days since the last interaction into fixed bands. A product falls in one cell per category it
belongs to: (category, price band), the band being its price's tercile among the products of that category.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy import select

from kizuna.recommend.data import TrainingData
from kizuna.store.engine import Store
from kizuna.store.tables import Customer, Product
from kizuna.store.types import utcnow

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The label of a value nobody gave (no birth date, no price ...).
UNKNOWN = "unknown"
#: The category of products without one.
NO_CATEGORY = "-"
#: Behaviour variables the recommender can derive from interactions.
BEHAVIOUR = ("recency", "frequency", "monetary", "favourite")
#: Upper ends (days, inclusive) of the recency bands; beyond the last is "366+".
RECENCY_DAYS = (30, 90, 180, 365)
_SEPARATORS = re.compile(r"\s*[>/|›»\\]\s*")


def age_band(value: Any) -> str:
    """An age in years as a decade band: "-19", "20-29" ... "60+" (non-numbers give "unknown")."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return UNKNOWN
    if value < 20:
        return "-19"
    if value >= 60:
        return "60+"
    low = int(value) // 10 * 10
    return f"{low}-{low + 9}"


def label(field: str, value: Any) -> str:
    """The evidence label of a raw customer attribute (ages are banded, missing values are "unknown")."""
    if field == "age":
        return age_band(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return UNKNOWN
    text = str(value).strip()
    return text or UNKNOWN


def customer_labels(
    customer_ids: IntArray, customers: Mapping[int, Mapping[str, Any]] | None, fields: Sequence[str]
) -> dict[str, list[str]]:
    """Per field, the label of each customer in ``customer_ids`` ("unknown" where not given)."""
    known = customers or {}
    out: dict[str, list[str]] = {}
    for field in fields:
        out[field] = [label(field, known.get(int(c), {}).get(field)) for c in customer_ids]
    return out


def quantile_labels(values: FloatArray, bands: int) -> list[str]:
    """``values`` cut into up to ``bands`` quantile bands, each named by the range it holds ("3-5", "6+")."""
    if len(values) == 0:
        return []
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bands + 1)[1:-1]))
    index = np.searchsorted(edges, values, side="right")
    names: dict[int, str] = {}
    occupied = np.unique(index).tolist()
    for band in occupied:
        inside = values[index == band]
        low, high = _number(float(inside.min())), _number(float(inside.max()))
        if band == occupied[-1] and len(occupied) > 1:
            names[band] = f"{low}+"
        else:
            names[band] = low if low == high else f"{low}-{high}"
    return [names[int(b)] for b in index]


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 or x == int(x) else f"{x:,.2f}"


def recency_labels(last: FloatArray, newest: float) -> list[str]:
    """Days from each customer's last interaction to the newest in the data, banded ("0-30" ... "366+")."""
    out = []
    for t in last.tolist():
        if not math.isfinite(t):
            out.append(UNKNOWN)
            continue
        days = (newest - t) / 86_400.0
        low = 0
        for high in RECENCY_DAYS:
            if days <= high:
                out.append(f"{low}-{high}")
                break
            low = high + 1
        else:
            out.append(f"{low}+")
    return out


@dataclass
class ItemCells:
    """Which cells (category, price band) each product falls in.

    Attributes:
        cells: the (category, price band) pairs that hold at least one product.
        slots: (n_items, most categories of one product) cell indexes, -1 where a product has fewer.
        membership: sparse items × cells incidence (1 where the product is in the cell).
    """

    cells: list[tuple[str, str]]
    slots: IntArray
    membership: sparse.csr_matrix

    @classmethod
    def build(
        cls, product_ids: IntArray, items: Mapping[int, Mapping[str, Any]] | None, bands: int
    ) -> ItemCells:
        """Cells of ``product_ids`` from ``items`` ({id: {"category": str | list, "price": float}})."""
        known = items or {}
        categories = [_categories(known.get(int(p), {}).get("category")) for p in product_ids]
        prices = np.array([_price(known.get(int(p), {}).get("price")) for p in product_ids])
        band_of: dict[tuple[int, str], str] = {}
        for name in sorted({c for cs in categories for c in cs}):
            members = [i for i, cs in enumerate(categories) if name in cs]
            for i, b in zip(members, _price_bands(prices[members], bands), strict=True):
                band_of[i, name] = b
        pairs = [[(c, band_of[i, c]) for c in cs] for i, cs in enumerate(categories)]
        cells = sorted({pair for ps in pairs for pair in ps})
        index = {pair: k for k, pair in enumerate(cells)}
        width = max((len(ps) for ps in pairs), default=1)
        slots = np.full((len(product_ids), max(width, 1)), -1, dtype=np.int64)
        rows, cols = [], []
        for i, ps in enumerate(pairs):
            for j, pair in enumerate(ps):
                slots[i, j] = index[pair]
                rows.append(i)
                cols.append(index[pair])
        membership = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(product_ids), len(cells)), dtype=np.float64
        )
        return cls(cells, slots, membership)


def _categories(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    names = [str(v).strip() for v in values if v is not None and str(v).strip()]
    return list(dict.fromkeys(names)) or [NO_CATEGORY]


def _price(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _price_bands(prices: FloatArray, bands: int) -> list[str]:
    """Quantile bands ("low", "mid", "high" for three) of prices within one category ("unknown": no price)."""
    out = [UNKNOWN] * len(prices)
    priced = np.flatnonzero(np.isfinite(prices))
    if bands < 2 or len(priced) == 0:
        return out
    values = prices[priced]
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bands + 1)[1:-1]))
    edges = edges[edges < values.max()]  # the top band is never empty; ties share the lower band
    names = _BAND_NAMES.get(len(edges) + 1)
    for i, k in zip(priced.tolist(), np.searchsorted(edges, values, side="left").tolist(), strict=True):
        out[i] = names[k] if names else f"band {k + 1}"
    return out


_BAND_NAMES = {1: ("any",), 2: ("low", "high"), 3: ("low", "mid", "high")}


def behaviour_labels(
    data: TrainingData, cells: ItemCells, prices: FloatArray, fields: Sequence[str], bands: int
) -> dict[str, list[str]]:
    """Per behaviour field (see :data:`BEHAVIOUR`), the label of each customer row of ``data``."""
    inter = data.interactions
    n = data.n_users
    out: dict[str, list[str]] = {}
    active = np.bincount(inter.user, minlength=n) > 0
    for field in fields:
        if field == "recency":
            last = np.full(n, -np.inf)
            timed = np.isfinite(inter.time)
            np.maximum.at(last, inter.user[timed], inter.time[timed])
            last[~np.isfinite(last)] = np.nan
            newest = float(np.nanmax(last)) if np.isfinite(last).any() else 0.0
            out[field] = recency_labels(last, newest)
        elif field in ("frequency", "monetary"):
            per_row = np.ones(len(inter)) if field == "frequency" else np.nan_to_num(prices[inter.item])
            if field == "monetary" and not np.isfinite(prices).any():
                out[field] = [UNKNOWN] * n
                continue
            totals = np.bincount(inter.user, weights=per_row, minlength=n).astype(np.float64)
            named = quantile_labels(totals[active], bands)
            labels = [UNKNOWN] * n
            for row, name in zip(np.flatnonzero(active).tolist(), named, strict=True):
                labels[row] = name
            out[field] = labels
        elif field == "favourite":
            out[field] = _favourites(data, cells)
        else:
            raise ValueError(f"unknown behaviour {field!r}: choose from {', '.join(BEHAVIOUR)}")
    return out


def _favourites(data: TrainingData, cells: ItemCells) -> list[str]:
    """Each customer's most chosen category ("none" without interactions; ties go to the first by name)."""
    categories = sorted({c for c, _ in cells.cells})
    position = {c: k for k, c in enumerate(categories)}
    cell_category = np.array([position[c] for c, _ in cells.cells], dtype=np.int64)
    inter = data.interactions
    per_cell = (
        sparse.csr_matrix((np.ones(len(inter)), (inter.user, inter.item)), shape=(data.n_users, data.n_items))
        @ cells.membership
    )
    counts = np.zeros((data.n_users, len(categories)))
    coo = sparse.coo_matrix(per_cell)
    np.add.at(counts, (coo.row, cell_category[coo.col]), coo.data)
    best = counts.argmax(axis=1)
    return [categories[b] if counts[u, b] > 0 else "none" for u, b in enumerate(best.tolist())]


# -- reading from the store ----------------------------------------------------------------------
def load_customer_attributes(store: Store, fields: Sequence[str]) -> dict[int, dict[str, Any]]:
    """Raw attributes of every customer for ``fields``.

    ``age`` is the age today from ``birth_date`` (else ``attributes.age``); ``gender`` is the column;
    ``region`` is the prefecture, else the first digit of a US ZIP code ("US-9"), else the country; any other
    field is read from ``attributes``.
    """
    today = utcnow().date()
    out: dict[int, dict[str, Any]] = {}
    columns = (Customer.id, Customer.birth_date, Customer.gender, Customer.prefecture, Customer.country,
               Customer.postal_code, Customer.attributes)  # fmt: skip
    with store.engine.connect() as conn:
        for cid, birth, gender, prefecture, country, postal, attributes in conn.execute(select(*columns)):
            extra = attributes or {}
            row: dict[str, Any] = {}
            for field in fields:
                if field == "age":
                    row[field] = _age(birth, today) if birth is not None else extra.get("age")
                elif field == "gender":
                    row[field] = gender
                elif field == "region":
                    row[field] = _region(prefecture, country, postal)
                else:
                    row[field] = extra.get(field)
            out[int(cid)] = row
    return out


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _region(prefecture: str | None, country: str | None, postal: str | None) -> str | None:
    if prefecture:
        return prefecture
    if country == "US" and postal and postal[:1].isdigit():
        return f"US-{postal[0]}"
    return country


def load_item_attributes(store: Store, category_source: str, depth: int) -> dict[int, dict[str, Any]]:
    """Category and price of every product.

    With ``category_source="category_path"`` the category is the path's first ``depth`` levels
    ("Movies/Drama"); any other name is read from the product's ``attributes`` (a string or a list, such as
    MovieLens ``genres``).
    """
    out: dict[int, dict[str, Any]] = {}
    columns = (Product.id, Product.category_path, Product.price, Product.attributes)
    with store.engine.connect() as conn:
        for pid, path, price, attributes in conn.execute(select(*columns)):
            if category_source == "category_path":
                parts = [p for p in _SEPARATORS.split(path or "") if p]
                category: Any = "/".join(parts[: max(depth, 1)]) or None
            else:
                category = (attributes or {}).get(category_source)
            out[int(pid)] = {"category": category, "price": price}
    return out
