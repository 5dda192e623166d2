"""Attribution of orders to deliveries: coupon redemptions, last-touch orders in the window, exactly once."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from outbox_seed import T0, customer, scenario
from sqlalchemy import select

from kizuna.channels.attribution import advance_position, attribute
from kizuna.config import Settings
from kizuna.scenarios.engine import run_once
from kizuna.store import Store
from kizuna.store.automation import Delivery, Response
from kizuna.store.tables import Coupon, CouponRedemption, Order

_serial = itertools.count(1)


def _sent(
    store: Store,
    who: int,
    *,
    at: datetime = T0,
    channel: str = "email",
    scenario_id: int | None = None,
    step: str = "mail",
    arm: str = "a",
    payload: dict[str, Any] | None = None,
    run_id: int | None = None,
    status: str = "sent",
) -> int:
    """A delivery sent to ``who`` at ``at``; the id."""
    with store.session() as session, session.begin():
        row = Delivery(
            key=f"{scenario_id or 0}:{step}:{who}:once:{next(_serial)}",
            scenario_id=scenario_id,
            run_id=run_id,
            step=step,
            customer_id=who,
            channel=channel,
            template="default",
            arm=arm,
            payload=payload or {},
            status=status,
            attempts=1,
            created_at=at,
            due_at=at,
            sent_at=at if status == "sent" else None,
        )
        session.add(row)
        session.flush()
        return row.id


def _order(
    store: Store,
    who: int,
    at: datetime,
    *,
    total: float = 5000.0,
    coupon: str | None = None,
    status: str = "completed",
) -> int:
    with store.session() as session, session.begin():
        row = Order(
            external_id=f"o-{next(_serial)}",
            customer_id=who,
            ordered_at=at,
            total=total,
            coupon_code=coupon,
            status=status,
            attributes={},
        )
        session.add(row)
        session.flush()
        return row.id


def _responses(store: Store, kind: str | None = None) -> list[Response]:
    with store.session() as session:
        query = select(Response).order_by(Response.id)
        if kind is not None:
            query = query.where(Response.kind == kind)
        return list(session.scalars(query))


def test_a_coupon_order_is_a_redemption_of_the_delivery_that_carried_the_coupon(store: Store) -> None:
    who = customer(store)
    sid = scenario(store, "first-order-coupon")
    with store.session() as session, session.begin():
        session.add(Coupon(code="WELCOME-7Q2K9XRM", customer_id=who, attributes={"run": 99}))
    mailed = _sent(
        store, who, scenario_id=sid, step="coupon-mail", arm="b", payload={"coupon": "WELCOME-7Q2K9XRM"}
    )
    order = _order(store, who, T0 + timedelta(days=20), total=4200.0, coupon="WELCOME-7Q2K9XRM")

    report = attribute(store, now=T0 + timedelta(days=21))

    [redeem] = _responses(store, "redeem")
    assert (redeem.delivery_id, redeem.customer_id, redeem.order_id) == (mailed, who, order)
    assert (redeem.scenario_id, redeem.step, redeem.arm) == (sid, "coupon-mail", "b")
    assert redeem.occurred_at == T0 + timedelta(days=20)
    assert redeem.details["revenue"] == 4200.0 and redeem.details["order_id"] == order
    assert redeem.details["coupon"] == "WELCOME-7Q2K9XRM"
    # 20 days is past the 7-day window: a redemption, not an attributed order.
    assert _responses(store, "order") == []
    with store.session() as session:
        [redemption] = session.scalars(select(CouponRedemption))
        assert (redemption.customer_id, redemption.order_id) == (who, order)
    assert (report.orders_read, report.redeemed, report.attributed, report.redemptions) == (1, 1, 0, 1)


def test_a_coupon_issued_by_the_run_ties_the_order_to_that_runs_delivery(store: Store) -> None:
    who = customer(store)
    with store.session() as session, session.begin():
        session.add(Coupon(code="RUN-CODE", customer_id=who, attributes={"scenario": "s", "run": 41}))
    other = _sent(store, who, run_id=40)
    mailed = _sent(store, who, run_id=41, at=T0 - timedelta(days=1))
    _order(store, who, T0 + timedelta(hours=2), coupon="RUN-CODE")

    attribute(store)

    [redeem] = _responses(store, "redeem")
    assert redeem.delivery_id == mailed
    [order] = _responses(store, "order")
    assert order.delivery_id == other  # last touch: the most recent delivery, whatever carried the coupon


def test_an_order_three_days_after_an_email_is_attributed_to_it(store: Store) -> None:
    who = customer(store)
    sid = scenario(store)
    _sent(store, who, at=T0 - timedelta(days=6), scenario_id=sid, step="first")
    latest = _sent(store, who, at=T0, scenario_id=sid, step="second", arm="control-b")
    _sent(store, who, at=T0 + timedelta(days=1), status="pending")  # not sent: no touch
    order = _order(store, who, T0 + timedelta(days=3), total=1234.5)

    report = attribute(store)

    [response] = _responses(store)
    assert (response.kind, response.delivery_id, response.order_id) == ("order", latest, order)
    assert (response.scenario_id, response.step, response.arm) == (sid, "second", "control-b")
    assert response.details == {"order_id": order, "order": response.details["order"], "revenue": 1234.5}
    assert report.attributed == 1 and report.redeemed == 0


def test_orders_outside_the_window_before_a_send_or_without_deliveries_are_not_attributed(
    store: Store,
) -> None:
    who, stranger = customer(store), customer(store)
    _sent(store, who, at=T0)
    _order(store, who, T0 + timedelta(days=7, minutes=1))  # just past the window
    _order(store, who, T0 - timedelta(minutes=1))  # before the email
    _order(store, stranger, T0 + timedelta(days=1))  # never sent anything
    _order(store, who, T0 + timedelta(days=1), status="cancelled")

    report = attribute(store)

    assert _responses(store) == []
    assert report.orders_read == 4


def test_each_channel_has_its_own_window(store: Store) -> None:
    who = customer(store)
    flyer = _sent(store, who, at=T0, channel="direct_mail")
    _order(store, who, T0 + timedelta(days=20))
    settings = Settings(attribution_windows={"direct_mail": 30, "email": 7})

    attribute(store, settings=settings)

    [response] = _responses(store, "order")
    assert response.delivery_id == flyer


def test_running_again_attributes_nothing_twice(store: Store) -> None:
    who = customer(store)
    _sent(store, who, payload={"coupon": "C-1"})
    _order(store, who, T0 + timedelta(days=1), coupon="C-1")
    first = attribute(store)
    assert (first.redeemed, first.attributed) == (1, 1)

    again = attribute(store)
    over = attribute(store, since=T0 - timedelta(days=30))  # everything again, past the cursor

    assert (again.orders_read, again.redeemed, again.attributed) == (0, 0, 0)
    assert (over.orders_read, over.redeemed, over.attributed) == (1, 0, 0)
    assert sorted(r.kind for r in _responses(store)) == ["order", "redeem"]
    later = _order(store, who, T0 + timedelta(days=2))
    assert attribute(store).attributed == 1
    assert [r.order_id for r in _responses(store, "order")][-1] == later


def test_the_worker_attributes_new_orders_each_pass(store: Store) -> None:
    who = customer(store)
    mailed = _sent(store, who)
    _order(store, who, T0 + timedelta(hours=5))

    report = run_once(store, now=T0 + timedelta(hours=6))

    assert report.attributed == 1
    [response] = _responses(store)
    assert response.delivery_id == mailed
    assert run_once(store, now=T0 + timedelta(hours=7)).attributed == 0


def test_the_cursor_stops_before_a_gap_until_it_may_skip_it() -> None:
    assert advance_position(10, [11, 12, 14, 15], may_skip_gap=False) == 12
    assert advance_position(10, [11, 12, 14, 15, 17], may_skip_gap=True) == 15
    assert advance_position(10, [13, 14], may_skip_gap=False) == 10
    assert advance_position(10, [], may_skip_gap=True) == 10
