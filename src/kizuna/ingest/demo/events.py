"""Web and app events for one block, in Segment's ecommerce vocabulary.

Each web or app order comes with its funnel (Product Viewed, Product Added, Checkout Started, Order
Completed; one-click reorders only the last two). Customers also browse products they like, some leave a
cart without buying (their last Product Added has no order after it), and many visited anonymously before
signing up. Events are only kept while the customer allows tracking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizuna.ingest.demo.catalogue import Catalogue
from kizuna.ingest.demo.consents import ConsentBatch
from kizuna.ingest.demo.orders import SUBSCRIPTION, OrderBatch, clock, sample_products
from kizuna.ingest.demo.traits import WINDOW_DAYS, Traits

#: (Segment call type, event name), in the order ``EventBatch.name`` indexes them.
EVENT_NAMES: tuple[tuple[str, str], ...] = (
    ("page", "Page Viewed"),
    ("track", "Product Viewed"),
    ("track", "Product Added"),
    ("track", "Checkout Started"),
    ("track", "Order Completed"),
)
PAGE, VIEWED, ADDED, CHECKOUT, COMPLETED = range(5)
WEB, APP = 0, 1


@dataclass
class EventBatch:
    """A block's events, sorted by customer and time.

    ``product`` and ``order`` are -1 where they do not apply; ``anonymous`` marks visits before sign-up,
    which carry only the anonymous id.
    """

    cust: np.ndarray
    at: np.ndarray
    name: np.ndarray
    product: np.ndarray
    order: np.ndarray
    channel: np.ndarray
    anonymous: np.ndarray


def _parts(
    cust: np.ndarray,
    at: np.ndarray,
    name: int,
    product: np.ndarray | int,
    order: np.ndarray | int,
    channel: np.ndarray,
    anonymous: bool = False,
) -> tuple[np.ndarray, ...]:
    n = len(cust)
    return (
        cust,
        at,
        np.full(n, name),
        np.broadcast_to(product, n),
        np.broadcast_to(order, n),
        channel,
        np.full(n, anonymous),
    )


def draw_events(
    rng: np.random.Generator,
    traits: Traits,
    orders: OrderBatch,
    consents: ConsentBatch,
    catalogue: Catalogue,
    signup: np.ndarray,
    start: int,
    end: int,
) -> EventBatch:
    """Draw one block's events; ``signup``, ``start`` and ``end`` are epoch seconds."""
    n = len(traits.buyer)
    parts: list[tuple[np.ndarray, ...]] = []
    site = np.where(traits.channel == APP, APP, WEB)

    # The funnel of every web or app order that was not a subscription delivery.
    online = np.flatnonzero((orders.kind != SUBSCRIPTION) & (orders.channel <= APP))
    first_line = np.zeros(len(orders.cust), dtype=np.int64)
    heads = orders.line_no == 1
    first_line[orders.line_order[heads]] = orders.product[heads]
    cust, placed, product = orders.cust[online], orders.at[online], first_line[online]
    checkout = placed - rng.integers(30, 120, len(online))
    added = checkout - rng.integers(30, 600, len(online))
    viewed = added - rng.integers(30, 900, len(online))
    channel = orders.channel[online]
    # Reorders skip browsing: the customer goes from the order history straight to checkout.
    browsed = ~orders.reorder[online]
    for at, step in ((viewed, VIEWED), (added, ADDED)):
        parts.append(_parts(cust[browsed], at[browsed], step, product[browsed], -1, channel[browsed]))
    parts.append(_parts(cust, checkout, CHECKOUT, product, online, channel))
    parts.append(_parts(cust, placed, COMPLETED, -1, online, channel))

    # Browsing: a category page, then a product the customer likes.
    signup_day = (signup - start) / 86_400.0
    sessions = rng.poisson(traits.browse_rate)
    cust = np.repeat(np.arange(n), sessions)
    until = np.minimum(traits.stop_day + 30.0, WINDOW_DAYS - 0.01)[cust]
    days = signup_day[cust] + rng.random(len(cust)) * np.maximum(until - signup_day[cust], 0.0)
    at = clock(rng, days, start)
    product = sample_products(rng, traits, cust, catalogue)
    parts.append(_parts(cust, at, PAGE, product, -1, site[cust]))
    parts.append(_parts(cust, at + rng.integers(10, 300, len(cust)), VIEWED, product, -1, site[cust]))

    # Abandoned carts: added after the customer's last order, never bought.
    last = np.maximum(signup, _last_order(orders, n))
    abandons = np.flatnonzero(rng.random(n) < 0.35)
    when = last[abandons] + 86_400 + (rng.random(len(abandons)) * (end - last[abandons])).astype(np.int64)
    abandons, when = abandons[when < end - 600], when[when < end - 600]
    product = sample_products(rng, traits, abandons, catalogue)
    parts.append(_parts(abandons, when, VIEWED, product, -1, site[abandons]))
    parts.append(
        _parts(abandons, when + rng.integers(20, 400, len(when)), ADDED, product, -1, site[abandons])
    )

    # Anonymous visits before signing up, tied to the customer only by the cookie id.
    visits = np.where(rng.random(n) < 0.5, 1 + (rng.random(n) < 0.4), 0)
    cust = np.repeat(np.arange(n), visits)
    before = signup[cust] - rng.integers(3_600, 10 * 86_400, len(cust))
    parts.append(_parts(cust, before, PAGE, -1, -1, np.full(len(cust), WEB), anonymous=True))

    cust, at, name, product, order, channel, anonymous = (
        np.concatenate(col) for col in zip(*parts, strict=True)
    )
    # Until they sign up, visitors are known by their cookie only.
    anonymous |= at < signup[cust]
    allowed = (at >= consents.tracking_from[cust]) & (at < consents.tracking_until[cust]) & (at <= end)
    keep = np.flatnonzero(allowed)
    keep = keep[np.lexsort((name[keep], at[keep], cust[keep]))]
    return EventBatch(
        cust=cust[keep],
        at=at[keep],
        name=name[keep],
        product=product[keep],
        order=order[keep],
        channel=channel[keep],
        anonymous=anonymous[keep],
    )


def _last_order(orders: OrderBatch, n: int) -> np.ndarray:
    last = np.zeros(n, dtype=np.int64)
    np.maximum.at(last, orders.cust, orders.at)
    return last
