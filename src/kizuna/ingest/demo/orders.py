"""Orders and order lines for one block of customers, drawn from their hidden traits.

Regular orders repeat at each customer's own interval (with noise) until they lapse or the window ends; the
first item is often the customer's favourite, re-bought later as consumables are. Trial-first customers start
with a trial set and, if they convert, buy the full-size product next. Subscribers get a monthly order of
the plan in their favourite subscribable category. Everything is vectorised over the block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizuna.ingest.demo.catalogue import Catalogue
from kizuna.ingest.demo.traits import Traits

#: Most regular orders one customer places in the window.
MAX_ORDERS = 12
#: Free shipping from this order value (yen, after discount); below it shipping costs SHIPPING_FEE.
FREE_SHIPPING_FROM = 5_000
SHIPPING_FEE = 550
REGULAR, TRIAL, SUBSCRIPTION = 0, 1, 2

#: (code, description, percent off, yen off, minimum spend); index 0 is for first orders only.
COUPONS: tuple[tuple[str, str, float, int, int], ...] = (
    ("WELCOME10", "はじめてのお買い物 10%OFF", 0.10, 0, 0),
    ("THANKS500", "いつもありがとうクーポン 500円OFF（3,000円以上）", 0.0, 500, 3_000),
    ("BIRTHDAY15", "お誕生月 15%OFF", 0.15, 0, 0),
    ("COMEBACK1000", "おかえりなさいクーポン 1,000円OFF（5,000円以上）", 0.0, 1_000, 5_000),
    ("SEASON10", "季節のセール 10%OFF", 0.10, 0, 0),
)

# How likely an order is placed in each hour of the day (JST): lunch breaks and evenings.
_HOURS = np.array(
    [2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 4, 5, 7, 6, 5, 4, 4, 5, 6, 7, 9, 10, 9, 5], dtype=float
)
_HOURS /= _HOURS.sum()


@dataclass
class OrderBatch:
    """A block's orders (``cust`` indexes the block) and their lines (``order`` indexes the orders)."""

    cust: np.ndarray
    seq: np.ndarray
    at: np.ndarray
    channel: np.ndarray
    kind: np.ndarray
    reorder: np.ndarray
    coupon: np.ndarray
    subtotal: np.ndarray
    discount: np.ndarray
    shipping: np.ndarray
    total: np.ndarray
    line_order: np.ndarray
    line_no: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray


def clock(rng: np.random.Generator, days: np.ndarray, start: int) -> np.ndarray:
    """Epoch seconds for fractional window days: the day's date with a realistic time of day (JST).

    ``start`` is the epoch second of midnight (JST) on the window's first day.
    """
    hour = rng.choice(24, size=len(days), p=_HOURS)
    second = hour * 3600 + rng.integers(0, 3600, len(days))
    return np.asarray(start + np.floor(days).astype(np.int64) * 86_400 + second, dtype=np.int64)


def _group_positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per group: the group of each item and its position within the group."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - starts[owner]


def sample_products(
    rng: np.random.Generator, traits: Traits, cust: np.ndarray, catalogue: Catalogue
) -> np.ndarray:
    """A regular product per entry of ``cust``, following that customer's category and price tastes."""
    cum = np.cumsum(traits.affinity, axis=1)[cust]
    cat = np.minimum((rng.random(len(cust))[:, None] > cum).sum(axis=1), cum.shape[1] - 1)
    cheap = rng.random(len(cust)) < traits.price_sensitivity[cust]
    cdf = np.where(cheap[:, None], catalogue.cheap_cdf[cat], catalogue.premium_cdf[cat])
    pick = np.minimum((rng.random(len(cust))[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)
    return np.asarray(catalogue.members[cat, pick])


def _regular_days(rng: np.random.Generator, traits: Traits) -> tuple[np.ndarray, np.ndarray]:
    span = traits.stop_day - traits.first_order_day
    count = np.minimum(np.floor(span / traits.interval_days) + 1, MAX_ORDERS).astype(np.int64)
    count = np.where(traits.trial_first & ~traits.trial_converts, 1, count)
    count = np.where(traits.buyer, np.maximum(count, 1), 0)
    cust, pos = _group_positions(count)
    gaps = traits.interval_days[cust] * rng.gamma(6.0, 1.0 / 6.0, len(cust))
    # Converting trial customers buy the full size soon after the trial set.
    gaps = np.where(traits.trial_first[cust] & (pos == 1), rng.uniform(5.0, 21.0, len(cust)), gaps)
    gaps[pos == 0] = 0.0
    total = np.cumsum(gaps)
    before = np.zeros(len(count))
    before[cust[pos == 0]] = total[pos == 0]
    days = traits.first_order_day[cust] + total - before[cust]
    keep = days < traits.stop_day[cust]
    return cust[keep], days[keep]


def _subscription_days(rng: np.random.Generator, traits: Traits) -> tuple[np.ndarray, np.ndarray]:
    begin = traits.first_order_day + rng.uniform(0.0, 120.0, len(traits.buyer))
    months = np.where(traits.subscriber, traits.subscription_months, 0)
    cust, pos = _group_positions(months)
    days = begin[cust] + 30.0 * pos
    keep = days < traits.stop_day[cust]
    return cust[keep], days[keep]


def draw_orders(rng: np.random.Generator, traits: Traits, catalogue: Catalogue, start: int) -> OrderBatch:
    """Draw one block's orders and lines; ``start`` is the window's first midnight (epoch seconds)."""
    reg_cust, reg_days = _regular_days(rng, traits)
    sub_cust, sub_days = _subscription_days(rng, traits)
    cust = np.concatenate([reg_cust, sub_cust])
    days = np.concatenate([reg_days, sub_days])
    kind = np.concatenate([np.full(len(reg_cust), REGULAR), np.full(len(sub_cust), SUBSCRIPTION)])
    first_regular = np.zeros(len(cust), dtype=bool)
    first_regular[: len(reg_cust)] = _group_starts(reg_cust)
    second_regular = np.zeros(len(cust), dtype=bool)
    second_regular[1 : len(reg_cust)] = first_regular[: len(reg_cust) - 1] & (reg_cust[1:] == reg_cust[:-1])
    kind = np.where(first_regular & traits.trial_first[cust], TRIAL, kind)
    at = clock(rng, days, start)
    order = np.lexsort((at, cust))
    cust, at, kind = cust[order], at[order], kind[order]
    first_regular, second_regular = first_regular[order], second_regular[order]
    _, seq = _group_positions(np.bincount(cust, minlength=len(traits.buyer)))

    # Lines: how many per order, then which product each is.
    n_lines = np.where(kind == REGULAR, 1 + np.minimum(rng.poisson(0.55, len(cust)), 3), 1)
    line_order, line_pos = _group_positions(n_lines)
    lc = cust[line_order]
    product = sample_products(rng, traits, lc, catalogue)
    favourite = sample_products(rng, traits, np.arange(len(traits.buyer)), catalogue)
    top = traits.top_category
    favourite = np.where(traits.trial_first, catalogue.full_size[top], favourite)
    head = line_pos == 0
    lk = kind[line_order]
    rebuy = head & (first_regular[line_order] | (rng.random(len(lc)) < traits.repeat_propensity[lc]))
    product = np.where(rebuy, favourite[lc], product)
    # A repeat order of the favourite goes through the shop's one-click reorder button.
    reorder = np.zeros(len(cust), dtype=bool)
    reorder[line_order[rebuy & ~first_regular[line_order]]] = True
    product = np.where(head & second_regular[line_order] & traits.trial_first[lc], favourite[lc], product)
    product = np.where(lk == TRIAL, catalogue.trial[top[lc]], product)
    product = np.where(lk == SUBSCRIPTION, catalogue.subscription[traits.top_subscribable[lc]], product)

    # The same product twice in one order is one line.
    _, first_seen = np.unique(line_order * len(catalogue.skus) + product, return_index=True)
    kept = np.sort(first_seen)
    line_order, product = line_order[kept], product[kept]
    _, line_no = _group_positions(np.bincount(line_order, minlength=len(cust)))
    unit_price = catalogue.prices[product]
    quantity = 1 + ((rng.random(len(product)) < 0.12) & (unit_price < 2_000)).astype(np.int64)
    subtotal = np.bincount(line_order, weights=unit_price * quantity, minlength=len(cust))

    coupon, discount = _coupons(rng, traits, cust, kind, first_regular, subtotal)
    free = (kind != REGULAR) | (subtotal - discount >= FREE_SHIPPING_FROM)
    shipping = np.where(free, 0.0, float(SHIPPING_FEE))
    usual = traits.channel[cust]
    channel = np.where(rng.random(len(cust)) < 0.85, usual, rng.integers(0, 3, len(cust)))
    return OrderBatch(
        cust=cust,
        seq=seq + 1,
        at=at,
        channel=channel,
        kind=kind,
        reorder=reorder & (kind == REGULAR),
        coupon=coupon,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        total=subtotal - discount + shipping,
        line_order=line_order,
        line_no=line_no + 1,
        product=product,
        quantity=quantity,
        unit_price=unit_price,
    )


def _group_starts(owner: np.ndarray) -> np.ndarray:
    starts = np.ones(len(owner), dtype=bool)
    starts[1:] = owner[1:] != owner[:-1]
    return starts


def _coupons(
    rng: np.random.Generator,
    traits: Traits,
    cust: np.ndarray,
    kind: np.ndarray,
    first_regular: np.ndarray,
    subtotal: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which coupon each order used (-1: none) and the discount it gave, in whole yen."""
    uses = (kind == REGULAR) & (rng.random(len(cust)) < traits.coupon_propensity[cust])
    code = np.where(first_regular, 0, rng.integers(1, len(COUPONS), len(cust)))
    minimum = np.array([c[4] for c in COUPONS])[code]
    # Below a coupon's minimum spend, customers use the seasonal one instead.
    code = np.where(subtotal < minimum, len(COUPONS) - 1, code)
    percent = np.array([c[2] for c in COUPONS])[code]
    yen = np.array([c[3] for c in COUPONS], dtype=float)[code]
    discount = np.minimum(np.floor(subtotal * percent) + yen, subtotal)
    return np.where(uses, code, -1), np.where(uses, discount, 0.0)
