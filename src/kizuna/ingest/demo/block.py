"""One block of demo customers, generated whole from its own random stream.

A block always draws :data:`~kizuna.ingest.demo.traits.BLOCK` customers, even when fewer were asked for,
and only then drops the extra ones: so customer 42 is the same person with the same history whether the
store has 50 or a million customers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from kizuna.ingest.demo.catalogue import Catalogue
from kizuna.ingest.demo.consents import ConsentBatch, draw_consents
from kizuna.ingest.demo.events import EventBatch, draw_events
from kizuna.ingest.demo.orders import OrderBatch, clock, draw_orders
from kizuna.ingest.demo.people import People, draw_people
from kizuna.ingest.demo.traits import BLOCK, WINDOW_DAYS, Traits, block_rng, draw_traits

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Window:
    """The demo store's history: from midnight (JST) ``WINDOW_DAYS - 1`` days before the as-of date to
    the last second of the as-of date, in epoch seconds."""

    as_of: date
    start: int
    end: int

    @classmethod
    def ending(cls, as_of: date) -> Window:
        """The window that ends with the as-of date."""
        first = datetime.combine(as_of - timedelta(days=WINDOW_DAYS - 1), time(), TOKYO)
        start = int(first.astimezone(UTC).timestamp())
        return cls(as_of, start, start + WINDOW_DAYS * 86_400 - 1)


@dataclass
class Block:
    """Everything generated for one block of customers; ``cust`` arrays index ``numbers``."""

    numbers: np.ndarray
    traits: Traits
    signup: np.ndarray
    anonymous_ids: list[str]
    acquisition: np.ndarray
    people: People
    orders: OrderBatch
    consents: ConsentBatch
    events: EventBatch

    def __len__(self) -> int:
        return len(self.numbers)


def generate_block(seed: int, block: int, customers: int, catalogue: Catalogue, window: Window) -> Block:
    """Generate block number ``block`` (0-based) of a store with ``customers`` customers."""
    rng = block_rng(seed, block)
    traits = draw_traits(rng)
    numbers = np.arange(block * BLOCK + 1, (block + 1) * BLOCK + 1)
    signup = clock(rng, traits.signup_day, window.start)
    anonymous_ids = [f"anon-{v:016x}" for v in rng.integers(0, 2**63, BLOCK, dtype=np.int64).tolist()]
    acquisition = rng.choice(len(ACQUISITION), size=BLOCK, p=_ACQUISITION_WEIGHTS)
    people = draw_people(rng, numbers, window.as_of)
    orders = draw_orders(rng, traits, catalogue, window.start)
    # Buyers sign up a few minutes before their first order, at the latest.
    first_order = np.full(BLOCK, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_order, orders.cust, orders.at)
    signup = np.minimum(signup, first_order - rng.integers(120, 900, BLOCK))
    consents = draw_consents(rng, signup, window.end)
    events = draw_events(rng, traits, orders, consents, catalogue, signup, window.start, window.end)
    whole = Block(numbers, traits, signup, anonymous_ids, acquisition, people, orders, consents, events)
    keep = min(BLOCK, customers - block * BLOCK)
    return whole if keep == BLOCK else only(whole, np.arange(BLOCK) < keep)


#: How customers found the brand (``attributes.acquisition_channel``).
ACQUISITION = ("instagram", "search", "line", "referral", "tv", "affiliate", "magazine")
_ACQUISITION_WEIGHTS = np.array([0.28, 0.24, 0.16, 0.1, 0.08, 0.09, 0.05])


_LINE_FIELDS = ("line_order", "line_no", "product", "quantity", "unit_price")


def _cut(batch: object, mask: np.ndarray, skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """The batch's row arrays (all fields but ``skip``) filtered by ``mask``."""
    names = [f.name for f in fields(batch) if f.name not in skip]  # type: ignore[arg-type]
    return {name: getattr(batch, name)[mask] for name in names}


def only(block: Block, chosen: np.ndarray) -> Block:
    """The block's customers where ``chosen`` (one bool per customer) and everything that is theirs."""
    index = np.cumsum(chosen) - 1  # new position of each kept customer
    orders = block.orders
    order_kept = chosen[orders.cust]
    order_index = np.cumsum(order_kept) - 1
    order_cols = _cut(orders, order_kept, skip=_LINE_FIELDS)
    order_cols["cust"] = index[order_cols["cust"]]
    line_cols = {k: getattr(orders, k)[order_kept[orders.line_order]] for k in _LINE_FIELDS}
    line_cols["line_order"] = order_index[line_cols["line_order"]]
    events = _cut(block.events, chosen[block.events.cust])
    events["cust"] = index[events["cust"]]
    events["order"] = np.where(events["order"] >= 0, order_index[np.maximum(events["order"], 0)], -1)
    tracking = ("tracking_from", "tracking_until")
    consents = _cut(block.consents, chosen[block.consents.cust], skip=tracking)
    consents["cust"] = index[consents["cust"]]
    consents.update({name: getattr(block.consents, name)[chosen] for name in tracking})
    picked = np.flatnonzero(chosen).tolist()
    people = People(**{f.name: [getattr(block.people, f.name)[i] for i in picked] for f in fields(People)})
    traits = Traits(**{f.name: getattr(block.traits, f.name)[chosen] for f in fields(Traits)})
    return replace(
        block,
        numbers=block.numbers[chosen],
        traits=traits,
        signup=block.signup[chosen],
        anonymous_ids=[block.anonymous_ids[i] for i in picked],
        acquisition=block.acquisition[chosen],
        people=people,
        orders=OrderBatch(**order_cols, **line_cols),
        consents=ConsentBatch(**consents),
        events=EventBatch(**events),
    )
