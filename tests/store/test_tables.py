from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from kizuna.privacy.consent import Purpose, Status, consent_state, record_consent
from kizuna.store import Store
from kizuna.store.tables import Consent, Customer, Event, Order, OrderLine, Product

JST = timezone(timedelta(hours=9))


def test_timestamps_are_stored_in_utc_and_come_back_aware(store: Store) -> None:
    with store.session() as s:
        c = Customer(external_id="c1", attributes={"rank": "gold", "tags": ["vip"]})
        s.add(c)
        s.flush()
        s.add(
            Event(
                message_id="m1",
                type="track",
                name="Signed Up",
                customer_id=c.id,
                occurred_at=datetime(2024, 4, 1, 9, 0, tzinfo=JST),
            )
        )
        s.commit()
    with store.session() as s:
        event = s.scalars(select(Event)).one()
        customer = s.scalars(select(Customer)).one()
    assert event.occurred_at == datetime(2024, 4, 1, 0, 0, tzinfo=UTC)
    assert event.occurred_at.tzinfo is not None
    assert customer.attributes == {"rank": "gold", "tags": ["vip"]}


def test_naive_datetimes_are_refused(store: Store) -> None:
    with store.session() as s, pytest.raises(StatementError, match="naive datetime"):
        s.add(Event(message_id="m1", type="track", occurred_at=datetime(2024, 1, 1)))
        s.flush()


def test_foreign_keys_are_enforced(store: Store) -> None:
    with store.session() as s, pytest.raises(IntegrityError):
        s.add(Order(external_id="o1", customer_id=999, ordered_at=datetime.now(UTC)))
        s.flush()


def test_unique_message_id(store: Store) -> None:
    when = datetime.now(UTC)
    with store.session() as s, pytest.raises(IntegrityError):
        s.add_all(
            [
                Event(message_id="m", type="track", occurred_at=when),
                Event(message_id="m", type="track", occurred_at=when),
            ]
        )
        s.flush()


def test_order_lines_belong_to_orders_and_products(store: Store) -> None:
    with store.session() as s:
        c = Customer(external_id="c1")
        p = Product(sku="p1", title="緑茶", price=980.0)
        s.add_all([c, p])
        s.flush()
        o = Order(external_id="o1", customer_id=c.id, ordered_at=datetime.now(UTC), total=1960.0)
        o.lines.append(OrderLine(line_no=1, product_id=p.id, quantity=2, unit_price=980.0, amount=1960.0))
        s.add(o)
        s.commit()
        assert s.scalars(select(OrderLine)).one().product.title == "緑茶"


def test_consent_history_is_kept_and_latest_decision_is_in_force(store: Store) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with store.session() as s:
        c = Customer(external_id="c1")
        s.add(c)
        s.flush()
        record_consent(s, c.id, Purpose.EMAIL, Status.GRANTED, source="signup", policy_version="v1", at=t0)
        record_consent(s, c.id, "email", "withdrawn", source="unsubscribe", at=t0 + timedelta(days=3))
        record_consent(s, c.id, Purpose.ADS, Status.DENIED, at=t0)
        s.commit()
        state = consent_state(s, c.id)
        history = s.scalars(select(Consent.status).order_by(Consent.recorded_at, Consent.id)).all()
    assert state["email"].status == "withdrawn" and state["email"].source == "unsubscribe"
    assert state["ads"].status == "denied"
    assert "tracking" not in state
    assert history == ["granted", "denied", "withdrawn"]


def test_unknown_purpose_is_refused(store: Store) -> None:
    with store.session() as s, pytest.raises(ValueError, match="sms"):
        record_consent(s, 1, "sms", "granted")


def test_consent_records_cannot_be_edited(store: Store) -> None:
    with store.session() as s:
        c = Customer(external_id="c1")
        s.add(c)
        s.flush()
        record = record_consent(s, c.id, Purpose.EMAIL, Status.GRANTED)
        record.status = "denied"
        with pytest.raises(ValueError, match="record a new decision"):
            s.flush()
