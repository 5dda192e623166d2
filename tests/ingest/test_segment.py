"""The Segment spec models: what they accept, and the field they name when they refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from kizuna.ingest.segment import OrderFields, Page, ProductFields, Track, aware
from kizuna.ingest.tracking import parse_batch


def test_segment_fields_and_extras() -> None:
    batch = parse_batch(
        {
            "batch": [
                {"type": "track", "userId": 42, "event": " Signed Up ", "messageId": "m",
                 "timestamp": "2026-03-01T12:00:00", "integrations": {"All": True}, "_metadata": {},
                 "context": {"anything": {"goes": [1, 2]}}, "properties": {"free": "form"}},
                {"type": "screen", "anonymousId": "a", "name": "Home", "category": "Tabs"},
            ],
            "writeKey": "ignored here",
        }
    )  # fmt: skip
    track, screen = batch.batch
    assert isinstance(track, Track) and track.user_id == "42" and track.event == "Signed Up"
    assert track.timestamp is not None and aware(track.timestamp) == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert track.commerce is None and track.payload == {"free": "form"}
    assert isinstance(screen, Page) and screen.type == "screen"
    assert (screen.event_name, screen.payload) == ("Home", {"category": "Tabs"})


def test_ecommerce_properties_are_checked() -> None:
    viewed = Track.model_validate(
        {
            "anonymousId": "a",
            "event": "Product Viewed",
            "properties": {"product_id": 7, "price": "1200", "x": 1},
        }
    )
    assert isinstance(viewed.commerce, ProductFields)
    assert (viewed.commerce.key, viewed.commerce.price) == ("7", 1200.0)
    order = Track.model_validate(
        {"userId": "u", "event": "Order Completed",
         "properties": {"order_id": "o", "products": [{"sku": "A", "quantity": 2}]}}
    )  # fmt: skip
    assert isinstance(order.commerce, OrderFields) and order.commerce.products[0].quantity == 2
    with pytest.raises(ValidationError, match=r"properties\.products\.0\.quantity"):
        Track.model_validate(
            {"userId": "u", "event": "Order Completed",
             "properties": {"order_id": "o", "products": [{"sku": "A", "quantity": -1}]}}
        )  # fmt: skip
    with pytest.raises(ValidationError, match=r"properties\.products\.0: give a sku or product_id"):
        Track.model_validate(
            {"userId": "u", "event": "Cart Viewed", "properties": {"products": [{"name": "?"}]}}
        )
    with pytest.raises(ValidationError, match=r"properties\.sku or properties\.product_id"):
        Track.model_validate({"userId": "u", "event": "Product Added", "properties": {"name": "?"}})
    with pytest.raises(ValidationError, match=r"properties\.price"):
        Track.model_validate(
            {"userId": "u", "event": "Product Viewed", "properties": {"sku": "A", "price": "∞"}}
        )


def test_ids_and_names_have_limits() -> None:
    with pytest.raises(ValidationError, match="userId"):
        Track.model_validate({"userId": "x" * 129, "event": "X"})
    with pytest.raises(ValidationError, match="event"):
        Track.model_validate({"userId": "u", "event": ""})
    with pytest.raises(ValidationError, match="userId or anonymousId"):
        Track.model_validate({"event": "X"})
