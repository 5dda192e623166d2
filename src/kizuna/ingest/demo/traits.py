"""Hidden per-customer traits that drive the demo store's behaviour (the answer key).

Traits are never written to the store: they are what a recommender or a segment should rediscover from the
orders and events. Customers are generated in fixed blocks of :data:`BLOCK` with their own random stream, so a
customer's traits depend only on the seed and their number, never on how many customers were asked for.
Times are in days from the start of the two-year window, so traits do not depend on the as-of date either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizuna.ingest.demo.categories import CATEGORIES

#: Customers per generation block; each block has its own random stream.
BLOCK = 1_000
#: Days of history before (and including) the as-of date.
WINDOW_DAYS = 730
#: A customer with no order in this many days before the as-of date is lapsed.
LAPSED_AFTER_DAYS = 183
#: Order channels, in the order ``Traits.channel`` indexes them.
CHANNELS = ("web", "app", "phone")

_POPULARITY = np.array([c.popularity for c in CATEGORIES])
_SUBSCRIBABLE = np.array([c.subscribable for c in CATEGORIES])


@dataclass
class Traits:
    """One block's hidden traits, one array entry per customer (days count from the window start)."""

    affinity: np.ndarray
    price_sensitivity: np.ndarray
    interval_days: np.ndarray
    signup_day: np.ndarray
    buyer: np.ndarray
    first_order_day: np.ndarray
    stop_day: np.ndarray
    lapsed: np.ndarray
    trial_first: np.ndarray
    trial_converts: np.ndarray
    subscriber: np.ndarray
    subscription_months: np.ndarray
    coupon_propensity: np.ndarray
    repeat_propensity: np.ndarray
    browse_rate: np.ndarray
    channel: np.ndarray

    @property
    def top_category(self) -> np.ndarray:
        """Each customer's favourite category."""
        return np.asarray(np.argmax(self.affinity, axis=1))

    @property
    def top_subscribable(self) -> np.ndarray:
        """Each customer's favourite among categories that have a subscription plan."""
        return np.asarray(np.argmax(np.where(_SUBSCRIBABLE, self.affinity, -1.0), axis=1))


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The random stream of one block of customers."""
    return np.random.default_rng([seed, 1, block])


def draw_traits(rng: np.random.Generator, n: int = BLOCK) -> Traits:
    """Draw ``n`` customers' hidden traits; always the first draws from a block's stream."""
    # A sparse Dirichlet: most customers care about one to three categories.
    affinity = rng.dirichlet(0.12 * len(CATEGORIES) * _POPULARITY / _POPULARITY.sum(), size=n)
    affinity = np.clip(np.nan_to_num(affinity, nan=0.0), 1e-9, None)
    affinity /= affinity.sum(axis=1, keepdims=True)
    price_sensitivity = rng.beta(2.0, 2.0, n)
    interval_days = np.clip(np.exp(rng.normal(np.log(80.0), 0.55, n)), 21.0, 365.0)
    # More sign-ups lately: the brand is growing.
    signup_day = WINDOW_DAYS * rng.random(n) ** 0.8
    delay = np.where(rng.random(n) < 0.7, 0.0, rng.exponential(25.0, n))
    first_order_day = signup_day + delay
    buyer = (rng.random(n) < 0.86) & (first_order_day < WINDOW_DAYS - 0.01)
    lapse_day = WINDOW_DAYS - rng.uniform(LAPSED_AFTER_DAYS + 2, 420.0, n)
    lapsed = buyer & (rng.random(n) < 0.3) & (first_order_day < lapse_day)
    stop_day = np.where(lapsed, lapse_day, WINDOW_DAYS - 0.01)
    trial_first = buyer & (rng.random(n) < 0.25)
    trial_converts = trial_first & (rng.random(n) < 0.5)
    # Lapsed customers have stopped everything, subscriptions included.
    subscriber = buyer & ~lapsed & (rng.random(n) < 0.08)
    subscription_months = rng.integers(2, 25, n)
    coupon_propensity = rng.beta(1.2, 6.0, n)
    repeat_propensity = rng.beta(3.0, 2.0, n)
    browse_rate = rng.gamma(2.0, 0.5, n)
    channel = rng.choice(3, size=n, p=[0.6, 0.32, 0.08])
    return Traits(
        affinity=affinity,
        price_sensitivity=price_sensitivity,
        interval_days=interval_days,
        signup_day=signup_day,
        buyer=buyer,
        first_order_day=first_order_day,
        stop_day=stop_day,
        lapsed=lapsed,
        trial_first=trial_first,
        trial_converts=trial_converts,
        subscriber=subscriber,
        subscription_months=subscription_months,
        coupon_propensity=coupon_propensity,
        repeat_propensity=repeat_propensity,
        browse_rate=browse_rate,
        channel=channel,
    )
