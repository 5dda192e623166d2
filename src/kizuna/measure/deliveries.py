"""A scenario's deliveries per step, arm and channel: how many went out, what came back, what they cost.

Statuses are counted as they stand (``sent``, ``failed``, ``suppressed``, and ``pending``/``sending`` as
waiting). Responses count the first of each kind per delivery (a message opened three times is one open). A
sent delivery *converted* when its customer placed a purchase (an order not cancelled, refunded or returned)
within the attribution window after it was sent (``attribution_window_days``); its revenue is those orders'
total. Costs are per sent delivery, from the settings: ``cost_per_email`` for email, ``cost_per_dm_piece``
plus ``cost_dm_postage`` for direct mail; other channels cost nothing here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from kizuna.channels.responses import ResponseKind
from kizuna.config import Settings
from kizuna.measure.experiment import NO_ARM
from kizuna.measure.window import orders_after
from kizuna.store.automation import FAILED, PENDING, SENDING, SENT, SUPPRESSED, Delivery, Response
from kizuna.store.epoch import epoch_micros

Key = tuple[str, str, str]

_RESPONSE_FIELDS = {
    ResponseKind.OPEN.value: "opened",
    ResponseKind.CLICK.value: "clicked",
    ResponseKind.SCAN.value: "scanned",
    ResponseKind.REDEEM.value: "redeemed",
    ResponseKind.UNSUBSCRIBE.value: "unsubscribed",
}


@dataclass
class DeliveryLine:
    """One step, arm and channel of a scenario: deliveries by status, responses, conversions and money."""

    step: str
    arm: str
    channel: str
    deliveries: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    waiting: int = 0
    opened: int = 0
    clicked: int = 0
    scanned: int = 0
    redeemed: int = 0
    unsubscribed: int = 0
    converted: int = 0
    revenue: float = 0.0
    cost: float = 0.0

    @property
    def roi(self) -> float | None:
        """(revenue − cost) / cost of the orders attributed to these deliveries; None without a cost."""
        return (self.revenue - self.cost) / self.cost if self.cost > 0 else None

    def rate(self, count: int) -> float:
        """``count`` as a share of the sent deliveries."""
        return count / self.sent if self.sent else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ROI and rates included."""
        return asdict(self) | {
            "roi": self.roi,
            "open_rate": self.rate(self.opened),
            "click_rate": self.rate(self.clicked),
            "conversion_rate": self.rate(self.converted),
        }


def unit_cost(channel: str, settings: Settings) -> float:
    """What one sent delivery through ``channel`` costs (print and postage for a DM piece)."""
    if channel == "email":
        return settings.cost_per_email
    if channel == "direct_mail":
        return settings.cost_per_dm_piece + settings.cost_dm_postage
    return 0.0


def delivery_lines(session: Session, scenario_id: int, settings: Settings) -> list[DeliveryLine]:
    """The scenario's deliveries per (step, arm, channel), sorted that way."""
    lines: dict[Key, DeliveryLine] = {}

    def line(step: str | None, arm: str | None, channel: str) -> DeliveryLine:
        key = (step or "?", arm or NO_ARM, channel)
        if key not in lines:
            lines[key] = DeliveryLine(*key)
        return lines[key]

    statuses = session.execute(
        select(Delivery.step, Delivery.arm, Delivery.channel, Delivery.status, func.count())
        .where(Delivery.scenario_id == scenario_id)
        .group_by(Delivery.step, Delivery.arm, Delivery.channel, Delivery.status)
    )
    for step, arm, channel, status, count in statuses:
        found = line(step, arm, channel)
        found.deliveries += count
        if status == SENT:
            found.sent += count
        elif status == FAILED:
            found.failed += count
        elif status == SUPPRESSED:
            found.suppressed += count
        elif status in (PENDING, SENDING):
            found.waiting += count
    first = func.count(distinct(Delivery.id))  # the first response of a kind per delivery
    responses = session.execute(
        select(Delivery.step, Delivery.arm, Delivery.channel, Response.kind, first)
        .join(Response, Response.delivery_id == Delivery.id)
        .where(Delivery.scenario_id == scenario_id)
        .group_by(Delivery.step, Delivery.arm, Delivery.channel, Response.kind)
    )
    for step, arm, channel, kind, count in responses:
        name = _RESPONSE_FIELDS.get(kind)
        if name is not None:
            found = line(step, arm, channel)
            setattr(found, name, getattr(found, name) + count)
    _conversions(session, scenario_id, settings.attribution_window_days, line)
    for found in lines.values():
        found.cost = round(found.sent * unit_cost(found.channel, settings), 2)
    return [lines[key] for key in sorted(lines)]


def _conversions(session: Session, scenario_id: int, days: float, line: Any) -> None:
    sent = (
        session.connection()
        .execute(
            select(
                Delivery.customer_id,
                Delivery.step,
                Delivery.arm,
                Delivery.channel,
                epoch_micros(session, Delivery.sent_at),
            ).where(
                Delivery.scenario_id == scenario_id, Delivery.status == SENT, Delivery.sent_at.is_not(None)
            )
        )
        .all()
    )
    if not sent:
        return
    customers = np.fromiter((row[0] for row in sent), dtype=np.int64, count=len(sent))
    moments = np.fromiter((row[4] for row in sent), dtype=np.int64, count=len(sent))
    counts, revenues = orders_after(session, customers, moments, days)
    totals: dict[Key, list[float]] = defaultdict(lambda: [0, 0.0])
    for k in np.flatnonzero(counts > 0).tolist():
        _, step, arm, channel, _ = sent[k]
        totals[(step, arm, channel)][0] += 1
        totals[(step, arm, channel)][1] += float(revenues[k])
    for (step, arm, channel), (converted, revenue) in totals.items():
        found = line(step, arm, channel)
        found.converted += int(converted)
        found.revenue = round(found.revenue + revenue, 2)
