"""Order Cancelled and Order Refunded from the tracking API, and what counts as a purchase afterwards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from kizuna.ingest.tracking import IngestResult, ingest_batch, parse_batch
from kizuna.profiles import customer_360
from kizuna.recommend.data import load_training_data
from kizuna.store import Store
from kizuna.store.orders import normalise_status, status_is_purchase
from kizuna.store.tables import Order

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRODUCTS = [{"sku": "BEANS", "price": 1000, "quantity": 2}]


def _track(event: str, n: str, properties: dict[str, Any], user: str = "u") -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": event, "messageId": n, "properties": properties}


def _ingest(store: Store, *messages: dict[str, Any]) -> IngestResult:
    with store.session() as s, s.begin():
        return ingest_batch(s, parse_batch({"batch": list(messages)}), NOW)


def _order(store: Store, key: str) -> Order:
    with store.session() as s:
        order = s.scalars(select(Order).where(Order.external_id == key)).one()
        s.expunge(order)
        return order


def _placed(store: Store, *keys: str, user: str = "u") -> None:
    orders = [
        _track("Order Completed", f"placed-{k}", {"order_id": k, "total": 2000, "products": PRODUCTS}, user)
        for k in keys
    ]
    assert _ingest(store, *orders).orders == len(keys)


def test_a_cancelled_order_is_no_purchase_in_profiles_or_training(store: Store) -> None:
    _placed(store, "o-1", "o-2")
    result = _ingest(store, _track("Order Cancelled", "c-1", {"order_id": "o-1"}))
    assert result.changed_orders == 1 and result.notes == []
    assert _order(store, "o-1").status == "cancelled" and _order(store, "o-2").status == "completed"
    with store.session() as s:
        profile = customer_360(s, "u")
    assert profile.order_count == 1 and profile.revenue == pytest.approx(2000)
    assert len(load_training_data(store).interactions) == 1  # o-2's line only


def test_a_whole_refund_refunds_and_a_partial_one_is_recorded(store: Store) -> None:
    _placed(store, "o-1", "o-2", "o-3")
    result = _ingest(
        store,
        _track("Order Refunded", "r-1", {"order_id": "o-1"}),  # no total: the whole order
        _track("Order Refunded", "r-2", {"order_id": "o-2", "total": 2000}),
        _track("Order Refunded", "r-3", {"order_id": "o-3", "total": 500}),
        _track("Order Refunded", "r-4", {"order_id": "o-3", "total": 300}),
    )
    assert result.changed_orders == 4
    assert [_order(store, k).status for k in ("o-1", "o-2", "o-3")] == ["refunded", "refunded", "completed"]
    assert _order(store, "o-3").attributes["refunded"] == 800
    again = _ingest(store, _track("Order Refunded", "r-4", {"order_id": "o-3", "total": 300}))
    assert again.duplicates == 1 and _order(store, "o-3").attributes["refunded"] == 800


def test_only_the_customers_own_orders_change(store: Store) -> None:
    _placed(store, "mine", user="a")
    result = _ingest(
        store,
        _track("Order Cancelled", "x-1", {"order_id": "mine"}, user="b"),
        _track("Order Cancelled", "x-2", {"order_id": "nowhere"}, user="a"),
    )
    assert result.changed_orders == 0 and result.stored == 2
    assert [n.split(":")[0] for n in result.notes] == [
        "order mine was not changed by Order Cancelled",
        "order nowhere was not changed by Order Cancelled",
    ]
    assert _order(store, "mine").status == "completed"


def test_an_order_placed_and_cancelled_in_one_batch(store: Store) -> None:
    placed = _track("Order Completed", "p", {"order_id": "o", "total": 2000, "products": PRODUCTS})
    result = _ingest(store, placed, _track("Order Cancelled", "c", {"order_id": "o"}))
    assert (result.orders, result.changed_orders) == (1, 1)
    assert _order(store, "o").status == "cancelled"


def test_a_change_without_an_order_id_is_refused_naming_the_field(store: Store) -> None:
    with pytest.raises(ValueError, match=r"properties\.order_id"):
        parse_batch({"batch": [_track("Order Refunded", "r", {"total": 5})]})


def test_statuses_are_stored_in_lower_case_and_read_alike() -> None:
    assert normalise_status(" Shipped ") == "shipped" and normalise_status(None) == "completed"
    assert normalise_status("") == "completed"
    for status in ("completed", "shipped", "Delivered", None):
        assert status_is_purchase(status)
    for status in ("cancelled", "Canceled", "REFUNDED", "returned"):
        assert not status_is_purchase(status)
