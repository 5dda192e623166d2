"""Attribution: orders turned into ``redeem`` and ``order`` responses to the deliveries that caused them.

Orders are read in order of arrival (id order) after the cursor ``attribution`` (``engine_cursors``), so
orders from every ingest path (file imports, the tracking API's ``Order Completed``, demo data) are picked
up. For each purchase (``kizuna.store.orders``: cancelled, refunded and returned orders are passed over):

- **Coupon redemption.** When the order's ``coupon_code`` is the coupon of a ``sent`` delivery to the same
  customer (the payload's ``coupon``, or a ``coupons`` row issued to that customer by the scenario run that
  wrote the delivery), a ``redeem`` response is recorded for that delivery: the latest one sent at or before
  the order, else the latest one sent. A coupon is a promise of its own: it counts however long ago it was
  sent. A ``coupon_redemptions`` row is written too (when the code is a ``coupons`` row and the order has
  none yet).
- **Order in the window (last touch).** The order is attributed to the most recent ``sent`` delivery to the
  customer, over every channel, whose ``sent_at`` is at or before the order and no more than the channel's
  window before it (``KIZUNA_ATTRIBUTION_WINDOWS`` per channel, else ``KIZUNA_ATTRIBUTION_WINDOW_DAYS``, 7):
  an ``order`` response. A coupon order gets both responses, possibly to two deliveries.

Customers of a control group or holdout receive no delivery, so none of their orders becomes a response:
their conversion is measured from their orders directly, against the arms' responses.

Each response carries the delivery's scenario, step and arm, ``occurred_at`` = the order's time, ``order_id``
and ``details`` ``{"order_id", "order", "revenue"}`` (and ``coupon`` for a redemption). ``order_id`` is unique
per kind (migration 0009), so an order is never attributed twice as either, whoever runs the pass, however
often. The cursor moves only with the responses it caused, in one transaction. On PostgreSQL ids are handed
out before commit, so a missing order id may still appear: the cursor waits before such a gap until it has
been stuck there ``KIZUNA_ENGINE_INTAKE_LAG_SECONDS`` (orders after the gap are attributed at once anyway,
and read again harmlessly). On SQLite one writer at a time commits in id order, so there is no such wait.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kizuna.config import Settings, get_settings
from kizuna.progress import NullProgress, Progress
from kizuna.scenarios.engine.claims import take_cursor
from kizuna.store.automation import SENT, Delivery, EngineCursor, Response
from kizuna.store.bulk import among, insert_new, is_postgres
from kizuna.store.engine import Store
from kizuna.store.orders import status_is_purchase
from kizuna.store.tables import Coupon, CouponRedemption, Order, table_of
from kizuna.store.types import utcnow

#: The cursor over ``orders``.
CURSOR = "attribution"


@dataclass
class AttributionReport:
    """What attribution passes did: orders read, responses recorded, coupon redemptions written."""

    orders_read: int = 0
    redeemed: int = 0
    attributed: int = 0
    redemptions: int = 0

    def add(self, other: AttributionReport) -> None:
        """Add ``other``'s counts to these."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class _Order:
    id: int
    external_id: str
    customer_id: int
    ordered_at: datetime
    total: float
    coupon_code: str | None


@dataclass(frozen=True)
class _Sent:
    id: int
    customer_id: int
    channel: str
    sent_at: datetime
    run_id: int | None
    scenario_id: int | None
    step: str | None
    arm: str | None
    coupon: str | None


def windows(settings: Settings) -> tuple[timedelta, dict[str, timedelta]]:
    """The default attribution window and the per-channel ones."""
    per_channel = {name: timedelta(days=days) for name, days in settings.attribution_windows.items()}
    return timedelta(days=settings.attribution_window_days), per_channel


def attribute_orders(
    session: Session, orders: Sequence[_Order], *, settings: Settings, report: AttributionReport
) -> None:
    """Record the responses (and coupon redemptions) ``orders`` give rise to, in the caller's transaction."""
    if not orders:
        return
    default_window, per_channel = windows(settings)
    longest = max([default_window, *per_channel.values()])
    coupon_customers = {o.customer_id for o in orders if o.coupon_code}
    start = min(o.ordered_at for o in orders) - longest
    sent = _sent(session, {o.customer_id for o in orders}, coupon_customers, start)
    by_customer: dict[int, list[_Sent]] = defaultdict(list)
    for d in sent:
        by_customer[d.customer_id].append(d)
    coupons = _coupons(session, {o.coupon_code for o in orders if o.coupon_code})
    rows: list[dict[str, Any]] = []
    redemptions: list[dict[str, Any]] = []
    for order in orders:
        mine = by_customer.get(order.customer_id, [])
        details = {"order_id": order.id, "order": order.external_id, "revenue": order.total}
        if order.coupon_code:
            coupon = coupons.get(order.coupon_code)
            chosen = _coupon_delivery(order, mine, coupon)
            if chosen is not None:
                rows.append(_row(chosen, order, "redeem", {**details, "coupon": order.coupon_code}))
            if coupon is not None:
                redemptions.append(
                    {
                        "coupon_id": coupon[0],
                        "customer_id": order.customer_id,
                        "order_id": order.id,
                        "redeemed_at": order.ordered_at,
                    }
                )
        touch = _last_touch(order, mine, default_window, per_channel)
        if touch is not None:
            rows.append(_row(touch, order, "order", details))
    for kind in insert_new(session, table_of(Response), rows, "kind"):
        if kind == "redeem":
            report.redeemed += 1
        else:
            report.attributed += 1
    report.redemptions += _write_redemptions(session, redemptions)


def _sent(session: Session, customers: set[int], coupon_customers: set[int], start: datetime) -> list[_Sent]:
    """The customers' sent deliveries: since ``start`` for everyone, all of them for coupon customers."""
    found: dict[int, _Sent] = {}
    for ids, since in ((customers, start), (coupon_customers, None)):
        for these in among(session, Delivery.customer_id, ids):
            query = select(
                Delivery.id,
                Delivery.customer_id,
                Delivery.channel,
                Delivery.sent_at,
                Delivery.run_id,
                Delivery.scenario_id,
                Delivery.step,
                Delivery.arm,
                Delivery.payload,
            ).where(these, Delivery.status == SENT, Delivery.sent_at.is_not(None))
            if since is not None:
                query = query.where(Delivery.sent_at >= since)
            for row in session.execute(query):
                coupon = (row.payload or {}).get("coupon")
                found[row.id] = _Sent(
                    row.id,
                    row.customer_id,
                    row.channel,
                    row.sent_at,
                    row.run_id,
                    row.scenario_id,
                    row.step,
                    row.arm,
                    str(coupon) if coupon else None,
                )
    return sorted(found.values(), key=lambda d: (d.sent_at, d.id))


def _coupons(session: Session, codes: set[str]) -> dict[str, tuple[int, int | None, int | None]]:
    """Per code: the coupon's id, the customer it was issued to and the scenario run that issued it."""
    if not codes:
        return {}
    found: dict[str, tuple[int, int | None, int | None]] = {}
    for chunk_start in range(0, len(codes), 900):
        chunk = sorted(codes)[chunk_start : chunk_start + 900]
        rows = session.execute(
            select(Coupon.code, Coupon.id, Coupon.customer_id, Coupon.attributes).where(
                Coupon.code.in_(chunk)
            )
        )
        for code, coupon_id, customer_id, attributes in rows:
            run = (attributes or {}).get("run")
            found[code] = (coupon_id, customer_id, run if isinstance(run, int) else None)
    return found


def _coupon_delivery(
    order: _Order, mine: Sequence[_Sent], coupon: tuple[int, int | None, int | None] | None
) -> _Sent | None:
    """The delivery whose coupon this order redeemed (see the module), or ``None``."""
    run = coupon[2] if coupon is not None and coupon[1] == order.customer_id else None
    matching = [d for d in mine if d.coupon == order.coupon_code or (run is not None and d.run_id == run)]
    before = [d for d in matching if d.sent_at <= order.ordered_at]
    chosen = before or matching
    return chosen[-1] if chosen else None


def _last_touch(
    order: _Order, mine: Sequence[_Sent], default_window: timedelta, per_channel: dict[str, timedelta]
) -> _Sent | None:
    """The most recent delivery sent at or before the order within its channel's window, or ``None``."""
    for d in reversed(mine):  # ``mine`` is in sending order
        if d.sent_at <= order.ordered_at and order.ordered_at - d.sent_at <= per_channel.get(
            d.channel, default_window
        ):
            return d
    return None


def _row(delivery: _Sent, order: _Order, kind: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "delivery_id": delivery.id,
        "customer_id": order.customer_id,
        "scenario_id": delivery.scenario_id,
        "step": delivery.step,
        "arm": delivery.arm,
        "kind": kind,
        "occurred_at": order.ordered_at,
        "details": details,
        "order_id": order.id,
    }


def _write_redemptions(session: Session, wanted: list[dict[str, Any]]) -> int:
    """Insert the coupon redemptions no order already has; how many were new."""
    if not wanted:
        return 0
    have = set(
        session.scalars(
            select(CouponRedemption.order_id).where(
                CouponRedemption.order_id.in_([r["order_id"] for r in wanted])
            )
        )
    )
    fresh = [r for r in wanted if r["order_id"] not in have]
    return len(insert_new(session, table_of(CouponRedemption), fresh, "id"))


def _orders(session: Session, *conditions: Any, limit: int) -> tuple[list[int], list[_Order]]:
    """The ids of the next ``limit`` orders meeting ``conditions``, in id order, and the purchases among
    them."""
    rows = session.execute(
        select(
            Order.id,
            Order.external_id,
            Order.customer_id,
            Order.ordered_at,
            Order.total,
            Order.coupon_code,
            Order.status,
        )
        .where(*conditions)
        .order_by(Order.id)
        .limit(limit)
    ).all()
    purchases = [
        _Order(r.id, r.external_id, r.customer_id, r.ordered_at, float(r.total or 0), r.coupon_code or None)
        for r in rows
        if status_is_purchase(r.status)
    ]
    return [r.id for r in rows], purchases


def advance_position(position: int, ids: Iterable[int], *, may_skip_gap: bool) -> int:
    """How far the cursor moves over ``ids`` (read in order after ``position``): to the end of the unbroken
    run, and over one gap more when ``may_skip_gap``."""
    expected = position + 1
    for row_id in ids:
        if row_id != expected:
            if not may_skip_gap:
                break
            may_skip_gap = False
        position, expected = row_id, row_id + 1
    return position


def attribute_next(
    session: Session, *, now: datetime, settings: Settings, report: AttributionReport
) -> tuple[int, bool]:
    """Attribute the next batch of orders after the cursor (in the caller's transaction): how many were
    read, and whether more may be waiting. Nothing is done when another worker holds the cursor."""
    position = take_cursor(session, CURSOR, now)
    if position is None:
        return 0, False
    batch = settings.attribution_batch_size
    ids, orders = _orders(session, Order.id > position, limit=batch)
    attribute_orders(session, orders, settings=settings, report=report)
    report.orders_read += len(ids)
    if is_postgres(session):
        stuck_since = session.scalar(select(EngineCursor.updated_at).where(EngineCursor.name == CURSOR))
        lag = timedelta(seconds=settings.engine_intake_lag_seconds)
        may_skip = stuck_since is None or now - stuck_since >= lag
    else:
        may_skip = True  # one writer at a time: ids are committed in order
    moved = advance_position(position, ids, may_skip_gap=may_skip)
    if moved != position or not ids:
        # ``updated_at`` is when the cursor last moved or saw nothing pending: how long a gap has blocked it.
        session.execute(
            update(EngineCursor).where(EngineCursor.name == CURSOR).values(position=moved, updated_at=now)
        )
    return len(ids), moved > position and len(ids) == batch


def attribute(
    store: Store,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> AttributionReport:
    """Attribute every order not yet attributed, batch by batch, each batch its own transaction.

    Without ``since``, the orders after the cursor (and the cursor moves). With ``since``, every order placed
    at or after it, whatever the cursor says (the cursor stays): after changing the windows, or to go over a
    period again; nothing is recorded twice.
    """
    settings = settings or get_settings()
    progress = progress or NullProgress()
    report = AttributionReport()
    if since is None:
        progress.stage("attributing new orders")
        while True:
            with store.session() as session, session.begin():
                read, more = attribute_next(session, now=now or utcnow(), settings=settings, report=report)
            progress.advance(read)
            if not more:
                return report
    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(Order).where(Order.ordered_at >= since))
    progress.stage(f"attributing orders since {since.isoformat()}", total=total)
    last = 0
    while True:
        with store.session() as session, session.begin():
            ids, orders = _orders(
                session, Order.ordered_at >= since, Order.id > last, limit=settings.attribution_batch_size
            )
            attribute_orders(session, orders, settings=settings, report=report)
        report.orders_read += len(ids)
        progress.advance(len(ids))
        if len(ids) < settings.attribution_batch_size:
            return report
        last = ids[-1]
