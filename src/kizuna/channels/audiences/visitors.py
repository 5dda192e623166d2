"""Cookie-based retargeting audiences: browsers (anonymous ids) that viewed a product and did not buy it.

Defined in a YAML file (``KIZUNA_WEB_AUDIENCES_FILE``; unset: the example shipped with kizuna)::

    audiences:
      - name: skincare-viewed-not-bought
        viewed: {category: スキンケア}       # or {sku: DEMO-SKL-01M}: a product, or a category and below
        lookback_days: 30                   # Product Viewed events of the last 30 days count
        not_bought_days: 30                 # ... unless the visitor bought that product in the last 30 days

A visitor is in the audience when one of their ``Product Viewed`` events in the lookback window names a
matching product (``properties.sku``, else ``properties.product_id``) and they did not buy it within
``not_bought_days``: no order line of the customer the cookie id is linked to, and no ``Order Completed``
event from the cookie id listing it. Only cookie ids whose ``ads`` consent is in force are listed (the rule of
:mod:`kizuna.privacy.visitors`: the linked customer's decision, else the browser's reported decision, else the
default, which for ads is opt-in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.errors import ConfigError, NotFoundError
from kizuna.ingest.identity import ANONYMOUS_ID
from kizuna.privacy.consent import Purpose, consented, default_allows
from kizuna.privacy.visitors import visitor_decisions
from kizuna.store.orders import is_purchase, refunds_all
from kizuna.store.tables import Event, Identity, Order, OrderLine, Product
from kizuna.web.slots import read_yaml

_VIEWED = "Product Viewed"
_ORDERED = "Order Completed"
#: Events that take an order back: no purchase after all (a refund only when it is the whole order).
_UNDONE = ("Order Cancelled", "Order Refunded")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Viewed(_Strict):
    """The product (by SKU) or category (path prefix) a visitor looked at."""

    sku: str | None = Field(default=None, min_length=1, max_length=128)
    category: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one(self) -> Viewed:
        if (self.sku is None) == (self.category is None):
            raise ValueError("give sku or category, not both")
        return self


class VisitorAudience(_Strict):
    """A cookie-based audience."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    viewed: Viewed
    lookback_days: int = Field(default=30, ge=1, le=395)
    not_bought_days: int = Field(default=30, ge=0, le=3_650)


class AudiencesFile(_Strict):
    """The audiences of a site."""

    audiences: list[VisitorAudience] = Field(default_factory=list)


def default_audiences_path() -> Path:
    """The example shipped with kizuna."""
    return Path(str(files("kizuna.web") / "defaults" / "audiences.yaml"))


def load_audiences(path: Path | None = None) -> AudiencesFile:
    """The audiences in ``path`` (default: the shipped example); ConfigError naming file and field."""
    chosen = path or default_audiences_path()
    try:
        mtime = chosen.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(
            f"{chosen}: cannot be read ({exc.strerror}); check KIZUNA_WEB_AUDIENCES_FILE"
        ) from exc
    return _load(chosen, mtime)


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: int) -> AudiencesFile:
    data = read_yaml(path)
    try:
        found = AudiencesFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None
    names = [a.name for a in found.audiences]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{path}: audience names must be unique: {', '.join(twice)}")
    return found


def find_audience(audiences: AudiencesFile, name: str) -> VisitorAudience:
    """The audience ``name``; NotFoundError naming those there are."""
    for audience in audiences.audiences:
        if audience.name == name:
            return audience
    known = ", ".join(a.name for a in audiences.audiences) or "none"
    raise NotFoundError(f"no cookie audience {name!r}: the audiences file defines {known}")


@dataclass(frozen=True)
class VisitorList:
    """The cookie ids of an audience that allow ads, sorted, as of ``generated_at``."""

    name: str
    generated_at: datetime
    anonymous_ids: list[str]


def audience_visitors(session: Session, audience: VisitorAudience, now: datetime) -> VisitorList:
    """Compute the audience at ``now``: viewers of the product(s) who did not buy them, who allow ads."""
    skus = _matching_skus(session, audience.viewed)
    viewed: dict[str, set[str]] = {}
    owner: dict[str, int] = {}
    since = now - timedelta(days=audience.lookback_days)
    rows = session.execute(
        select(Event.anonymous_id, Event.customer_id, Event.properties).where(
            Event.name == _VIEWED, Event.occurred_at >= since, Event.occurred_at <= now
        )
    )
    for anonymous_id, customer_id, properties in rows:
        sku = _sku_of(properties)
        if anonymous_id and sku in skus:
            viewed.setdefault(anonymous_id, set()).add(sku)
            if customer_id is not None:
                owner[anonymous_id] = int(customer_id)
    if not viewed:
        return VisitorList(audience.name, now, [])
    owner |= _linked_customers(session, list(viewed))
    bought_since = now - timedelta(days=audience.not_bought_days)
    by_customer = _bought_by_customers(session, set(owner.values()), bought_since, now)
    by_cookie = _bought_by_cookies(session, bought_since, now)
    keep = []
    for anonymous_id, seen in viewed.items():
        bought = by_cookie.get(anonymous_id, set())
        if anonymous_id in owner:
            bought = bought | by_customer.get(owner[anonymous_id], set())
        if seen - bought:
            keep.append(anonymous_id)
    return VisitorList(audience.name, now, sorted(_allowing_ads(session, keep, owner, now)))


def _matching_skus(session: Session, viewed: Viewed) -> set[str]:
    if viewed.sku is not None:
        return {viewed.sku}
    prefix = viewed.category or ""
    query = select(Product.sku).where(
        (Product.category_path == prefix) | Product.category_path.startswith(prefix + "/", autoescape=True)
    )
    return set(session.scalars(query))


def _sku_of(properties: Any) -> str | None:
    if not isinstance(properties, dict):
        return None
    value = properties.get("sku") or properties.get("product_id")
    return str(value) if value is not None else None


def _chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _linked_customers(session: Session, anonymous_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(anonymous_ids)):
        rows = session.execute(
            select(Identity.value, Identity.customer_id).where(
                Identity.kind == ANONYMOUS_ID, Identity.value.in_(chunk), Identity.customer_id.is_not(None)
            )
        )
        found.update({value: int(cid) for value, cid in rows})
    return found


def _bought_by_customers(
    session: Session, customer_ids: set[int], since: datetime, now: datetime
) -> dict[int, set[str]]:
    bought: dict[int, set[str]] = {}
    for chunk in _chunks(sorted(customer_ids)):
        rows = session.execute(
            select(Order.customer_id, Product.sku)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .join(Product, Product.id == OrderLine.product_id)
            .where(
                Order.customer_id.in_(chunk),
                Order.ordered_at >= since,
                Order.ordered_at <= now,
                is_purchase(Order.status),
            )
        )
        for cid, sku in rows:
            bought.setdefault(int(cid), set()).add(sku)
    return bought


def _bought_by_cookies(session: Session, since: datetime, now: datetime) -> dict[str, set[str]]:
    """Per browser, the SKUs its Order Completed events bought, but for orders it later cancelled or had
    refunded in full (as ``kizuna.ingest.commerce.change_orders`` reads those events for stored orders)."""
    rows = session.execute(
        select(Event.anonymous_id, Event.name, Event.properties).where(
            Event.name.in_((_ORDERED, *_UNDONE)), Event.occurred_at >= since, Event.occurred_at <= now
        )
    ).all()
    undone: dict[str, float | None] = {}  # order id → the refund (None: all of it)
    for _, name, properties in rows:
        if name in _UNDONE and isinstance(properties, dict) and properties.get("order_id") is not None:
            refund = properties.get("total") if name == "Order Refunded" else None
            undone[str(properties["order_id"])] = refund if isinstance(refund, (int, float)) else None
    bought: dict[str, set[str]] = {}
    for anonymous_id, name, properties in rows:
        products = properties.get("products") if isinstance(properties, dict) else None
        if name != _ORDERED or not anonymous_id or not isinstance(products, list):
            continue
        key = str(properties.get("order_id"))
        total = properties.get("total")
        if key in undone and refunds_all(undone[key], total if isinstance(total, (int, float)) else None):
            continue
        skus = {_sku_of(p) for p in products}
        bought.setdefault(anonymous_id, set()).update(s for s in skus if s)
    return bought


def _allowing_ads(
    session: Session, anonymous_ids: list[str], owner: dict[str, int], now: datetime
) -> list[str]:
    """The ids whose ads consent is in force: the linked customer's, else the browser's, else the default."""
    linked = {a: owner[a] for a in anonymous_ids if a in owner}
    allowed_customers = consented(session, set(linked.values()), Purpose.ADS, now) if linked else set()
    unlinked = [a for a in anonymous_ids if a not in linked]
    reported = visitor_decisions(session, unlinked, Purpose.ADS, now)
    default = default_allows(Purpose.ADS)
    keep = [a for a, cid in linked.items() if cid in allowed_customers]
    keep += [a for a in unlinked if (reported[a] == "granted" if a in reported else default)]
    return keep
