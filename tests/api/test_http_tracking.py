"""The tracking API over real HTTP, on each backend: auth, the Segment calls, dedup, skew, bad input."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from live_server import Api, make_key
from sqlalchemy import func, select

from kizuna.privacy.consent import record_consent
from kizuna.security.keys import revoke_key
from kizuna.store.tables import Customer, Event, Identity, Order, OrderLine, Product


def _count(api: Api, model: Any) -> int:
    with api.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _event(api: Api, message_id: str) -> Event:
    with api.store.session() as s:
        found = s.scalars(select(Event).where(Event.message_id == message_id)).one()
        s.expunge(found)
        return found


def _track(
    event: str, message_id: str, properties: Any = None, *, user: str | None = None, anon: str = "d"
) -> dict[str, Any]:
    message = {"type": "track", "event": event, "messageId": message_id, "properties": properties or {}}
    return message | ({"userId": user} if user else {"anonymousId": anon})


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def test_segment_calls_are_stored_and_attributed(api: Api) -> None:
    with api.tracker() as c:
        page = {"anonymousId": "dev-1", "name": "Home", "messageId": "p1", "properties": {"path": "/"}}
        assert c.post("/v1/page", json=page).json()["stored"] == 1
        batch = [
            {"type": "identify", "userId": "u-1", "anonymousId": "dev-1", "messageId": "i1",
             "traits": {"email": "hanako@example.jp", "name": "佐藤 花子"}},
            {"type": "track", "anonymousId": "dev-1", "event": "Signed Up", "messageId": "t1",
             "properties": {"plan": "free"}},
            {"type": "screen", "userId": "u-1", "name": "Cart", "messageId": "s1"},
            {"type": "group", "userId": "u-1", "groupId": "household-9", "messageId": "g1"},
        ]  # fmt: skip
        answer = c.post("/v1/batch", json={"batch": batch, "context": {"library": {"name": "test"}}})
        assert answer.status_code == 200, answer.text
        assert answer.json() | {"notes": []} == {
            "success": True, "received": 4, "stored": 4, "duplicates": 0, "dropped": 0,
            "products": 0, "orders": 0, "changed_orders": 0, "notes": [],
        }  # fmt: skip
    with api.store.session() as s:
        customer = s.scalars(select(Customer).where(Customer.external_id == "u-1")).one()
        assert customer.email == "hanako@example.jp" and customer.name == "佐藤 花子"
        owners = {e.message_id: e.customer_id for e in s.scalars(select(Event))}
        assert owners == dict.fromkeys(["p1", "i1", "t1", "s1", "g1"], customer.id)
        device = s.scalars(select(Identity).where(Identity.value == "dev-1")).one()
        assert device.customer_id == customer.id and device.kind == "anonymous_id"
    tracked = _event(api, "t1")
    assert (tracked.type, tracked.name, tracked.properties) == ("track", "Signed Up", {"plan": "free"})
    assert tracked.context == {"library": {"name": "test"}}
    assert _event(api, "g1").name == "household-9"


def test_alias_links_an_earlier_id(api: Api) -> None:
    with api.tracker() as c:
        c.post("/v1/track", json={"anonymousId": "old-device", "event": "Viewed", "messageId": "a"})
        answer = c.post("/v1/alias", json={"previousId": "old-device", "userId": "u-9", "messageId": "b"})
        assert answer.status_code == 200, answer.text
    with api.store.session() as s:
        customer_id = s.scalar(select(Customer.id).where(Customer.external_id == "u-9"))
    assert customer_id is not None and _event(api, "a").customer_id == customer_id


def test_duplicate_message_ids_are_dropped(api: Api) -> None:
    batch = {
        "batch": [{"type": "track", "anonymousId": "d", "event": "X", "messageId": f"m{i}"} for i in range(5)]
    }
    with api.tracker() as c:
        assert c.post("/v1/batch", json=batch).json()["stored"] == 5
        again = c.post("/v1/batch", json=batch).json()
        assert (again["stored"], again["duplicates"]) == (0, 5)
        inside = [{"type": "page", "anonymousId": "d", "messageId": "same"}] * 3
        assert c.post("/v1/batch", json={"batch": inside}).json()["stored"] == 1
    assert _count(api, Event) == 6


def test_clock_skew_is_corrected_from_sent_at(api: Api) -> None:
    device_now = datetime.now(UTC) + timedelta(hours=3)  # the device's clock is three hours fast
    message = {
        "anonymousId": "d",
        "event": "Clicked",
        "messageId": "skewed",
        "timestamp": _iso(device_now - timedelta(seconds=20)),
        "sentAt": _iso(device_now),
    }
    with api.tracker() as c:
        assert c.post("/v1/track", json=message).status_code == 200
        batched = {"type": "track", "anonymousId": "d", "event": "Later", "messageId": "batched",
                   "timestamp": _iso(device_now - timedelta(seconds=5))}  # fmt: skip
        assert c.post("/v1/batch", json={"batch": [batched], "sentAt": _iso(device_now)}).status_code == 200
        plain = {
            "anonymousId": "d",
            "event": "Server side",
            "messageId": "plain",
            "timestamp": "2024-05-01T09:00:00+09:00",
        }
        assert c.post("/v1/track", json=plain).status_code == 200
    event = _event(api, "skewed")
    assert event.occurred_at == event.received_at - timedelta(seconds=20)
    later = _event(api, "batched")
    assert later.occurred_at == later.received_at - timedelta(seconds=5)
    assert _event(api, "plain").occurred_at == datetime(2024, 5, 1, tzinfo=UTC)


def test_write_key_in_the_body_and_short_paths_for_analytics_js(api: Api) -> None:
    body = {"writeKey": api.write_key, "anonymousId": "browser", "event": "Clicked", "messageId": "js-1"}
    headers = {"Content-Type": "text/plain"}
    answer = httpx.post(f"{api.url}/v1/t", content=json.dumps(body), headers=headers)
    assert answer.status_code == 200, answer.text
    batch = {
        "writeKey": api.write_key,
        "batch": [{"type": "page", "anonymousId": "browser", "messageId": "js-2"}],
    }
    assert httpx.post(f"{api.url}/v1/b", content=json.dumps(batch), headers=headers).status_code == 200
    assert _count(api, Event) == 2


def test_keys_401_and_403(serve: Callable[..., Api]) -> None:
    api = serve(api_key_cache_seconds=0)  # a revoked write key fails at once, not within the cache's time
    message = {"anonymousId": "d", "event": "X"}
    missing = httpx.post(f"{api.url}/v1/track", json=message)
    assert missing.status_code == 401 and "write key" in missing.json()["message"]
    assert missing.headers["www-authenticate"].startswith("Basic")
    wrong = httpx.post(f"{api.url}/v1/track", json=message, auth=("kzw_0000000000000000_nope", ""))
    assert wrong.status_code == 401 and "unknown API key" in wrong.json()["message"]
    garbage = httpx.post(f"{api.url}/v1/track", json=message, auth=("hello", ""))
    assert garbage.status_code == 401
    secret = httpx.post(f"{api.url}/v1/track", json=message, auth=(api.secret_key, ""))
    assert secret.status_code == 403 and "write key" in secret.json()["message"]
    other = make_key(api.store, "write")
    assert httpx.post(f"{api.url}/v1/track", json=message, auth=(other, "")).status_code == 200
    with api.store.session() as s, s.begin():
        revoke_key(s, other)
    revoked = httpx.post(f"{api.url}/v1/track", json=message, auth=(other, ""))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["message"]
    assert _count(api, Event) == 1


def test_write_keys_are_trusted_for_the_cache_time(serve: Callable[..., Api]) -> None:
    api = serve(api_key_cache_seconds=0.5)
    message = {"anonymousId": "d", "event": "X"}
    assert httpx.post(f"{api.url}/v1/track", json=message, auth=(api.write_key, "")).status_code == 200
    with api.store.session() as s, s.begin():
        revoke_key(s, api.write_key)
    assert httpx.post(f"{api.url}/v1/track", json=message, auth=(api.write_key, "")).status_code == 200
    time.sleep(0.6)
    assert httpx.post(f"{api.url}/v1/track", json=message, auth=(api.write_key, "")).status_code == 401


def test_bad_input_is_refused_naming_the_field(api: Api) -> None:
    def refused(body: Any, path: str = "/v1/batch") -> dict[str, Any]:
        with api.tracker() as c:
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            answer = c.post(path, content=content)
        assert answer.status_code == 400, answer.text
        found: dict[str, Any] = answer.json()
        assert found["success"] is False
        return found

    assert refused(b'{"batch": [')["error"] == "invalid_json"
    assert refused(b"[1, 2]", "/v1/track")["errors"][0]["type"] == "model_type"
    assert refused({"batch": [{"type": "track", "anonymousId": "d"}]})["message"].startswith("batch.0.event:")
    assert (
        refused({"batch": [{"type": "teleport", "anonymousId": "d"}]})["errors"][0]["field"] == "batch.0.type"
    )
    assert refused({"batch": [{"anonymousId": "d"}]})["errors"][0]["field"] == "batch.0.type"
    assert "userId or anonymousId" in refused({"batch": [{"type": "page"}]})["message"]
    when = refused({"batch": [{"type": "page", "anonymousId": "d", "timestamp": "yesterday"}]})
    assert when["errors"][0]["field"] == "batch.0.timestamp"
    props = refused({"batch": [{"type": "track", "userId": "u", "event": "X", "properties": "cheap"}]})
    assert props["errors"][0]["field"] == "batch.0.properties"
    price = {
        "type": "track",
        "userId": "u",
        "event": "Product Viewed",
        "properties": {"sku": "A", "price": "abc"},
    }
    assert "properties.price" in refused({"batch": [price]})["message"]
    order = {"type": "track", "userId": "u", "event": "Order Completed", "properties": {"total": 10}}
    assert "properties.order_id" in refused({"batch": [order]})["message"]
    assert refused({"event": "X"}, "/v1/track")["message"].startswith("userId or anonymousId")
    assert _count(api, Event) == 0


def test_a_batch_is_all_or_nothing(api: Api) -> None:
    good = [{"type": "track", "anonymousId": "d", "event": "X", "messageId": f"ok{i}"} for i in range(3)]
    bad = {"type": "track", "anonymousId": "d", "messageId": "broken"}
    with api.tracker() as c:
        answer = c.post("/v1/batch", json={"batch": [*good, bad]})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "batch.3.event"
    assert _count(api, Event) == 0


def test_oversize_payloads_get_413(serve: Callable[..., Api]) -> None:
    api = serve(api_max_batch_bytes=2_048)
    big = {"batch": [{"type": "track", "anonymousId": "d", "event": "X", "properties": {"pad": "x" * 3_000}}]}
    with api.tracker() as c:
        answer = c.post("/v1/batch", json=big)
        assert answer.status_code == 413 and "2,048 bytes" in answer.json()["message"]
        small = {"batch": [{"type": "track", "anonymousId": "d", "event": "X"}]}
        assert c.post("/v1/batch", json=small).status_code == 200

        def chunks() -> Any:  # no Content-Length: the limit holds while reading
            yield b'{"batch": [' + b" " * 4_000
            yield b"]}"

        assert c.post("/v1/batch", content=chunks()).status_code == 413
    assert _count(api, Event) == 1


def test_ecommerce_events_update_products_and_orders(api: Api) -> None:
    viewed = {"sku": "TEA-1", "name": "玉露 100g", "price": 1800, "category": "お茶/緑茶", "brand": "宇治園"}
    order = {
        "order_id": "W-1001",
        "total": 4100,
        "revenue": 3600,
        "shipping": 500,
        "currency": "JPY",
        "coupon": "WELCOME",
        "products": [
            {"sku": "TEA-1", "price": 1800, "quantity": 2},
            {"product_id": "CUP-7", "name": "湯呑", "price": 0},
        ],
    }
    batch = [
        {"type": "identify", "userId": "u-5", "anonymousId": "dev-5", "messageId": "e0"},
        _track("Product Viewed", "e1", viewed, anon="dev-5"),
        _track("Product Added", "e2", {"sku": "TEA-1", "quantity": 2}, user="u-5"),
        _track("Cart Viewed", "e3", {"products": [{"sku": "TEA-1"}]}, user="u-5"),
        _track("Checkout Started", "e4", {"products": order["products"]}, user="u-5"),
        _track("Order Completed", "e5", order, user="u-5"),
    ]
    with api.tracker() as c:
        answer = c.post("/v1/batch", json={"batch": batch}).json()
        assert (answer["stored"], answer["orders"]) == (6, 1)
        resent = {**batch[-1], "messageId": "e6"}  # the same order sent again under a new message id
        assert c.post("/v1/batch", json={"batch": [resent]}).json()["orders"] == 0
        price = _track("Product Viewed", "e7", {"sku": "TEA-1", "price": 1980}, anon="x")
        assert c.post("/v1/batch", json={"batch": [price]}).json()["products"] == 1
    with api.store.session() as s:
        tea = s.scalars(select(Product).where(Product.sku == "TEA-1")).one()
        assert (tea.title, tea.price, tea.category_path, tea.brand) == (
            "玉露 100g",
            1980.0,
            "お茶/緑茶",
            "宇治園",
        )
        assert s.scalars(select(Product.title).where(Product.sku == "CUP-7")).one() == "湯呑"
        placed = s.scalars(select(Order)).one()
        assert (placed.external_id, placed.total, placed.subtotal, placed.shipping) == (
            "W-1001",
            4100,
            3600,
            500,
        )
        assert (placed.coupon_code, placed.currency, placed.channel) == ("WELCOME", "JPY", "web")
        owner = s.scalar(select(Customer.id).where(Customer.external_id == "u-5"))
        assert placed.customer_id == owner
        lines = s.execute(
            select(OrderLine.line_no, Product.sku, OrderLine.quantity, OrderLine.amount)
            .join(Product, Product.id == OrderLine.product_id)
            .order_by(OrderLine.line_no)
        ).all()
        assert [tuple(x) for x in lines] == [(1, "TEA-1", 2, 3600.0), (2, "CUP-7", 1, 0.0)]


def test_orders_of_unknown_visitors_are_not_recorded(api: Api) -> None:
    order = {"order_id": "G-1", "total": 100, "products": [{"sku": "A", "price": 100}]}
    with api.tracker() as c:
        answer = c.post(
            "/v1/track", json={"anonymousId": "guest", "event": "Order Completed", "properties": order}
        )
    found = answer.json()
    assert found["stored"] == 1 and found["orders"] == 0 and "not a known customer" in found["notes"][0]
    assert _count(api, Order) == 0


def test_withdrawn_tracking_consent_stops_storing(api: Api) -> None:
    with api.tracker() as c:
        c.post("/v1/identify", json={"userId": "u-7", "anonymousId": "dev-7", "messageId": "who"})
    with api.store.session() as s, s.begin():
        customer_id = s.scalar(select(Customer.id).where(Customer.external_id == "u-7"))
        assert customer_id is not None
        record_consent(s, customer_id, "tracking", "granted", at=datetime.now(UTC) - timedelta(days=2))
        record_consent(s, customer_id, "tracking", "withdrawn", at=datetime.now(UTC) - timedelta(days=1))
    with api.tracker() as c:
        batch = [
            {"type": "track", "userId": "u-7", "event": "X", "messageId": "by-user"},
            {"type": "page", "anonymousId": "dev-7", "messageId": "by-device"},
            {"type": "page", "anonymousId": "someone-else", "messageId": "other"},
        ]
        answer = c.post("/v1/batch", json={"batch": batch}).json()
    assert (answer["stored"], answer["dropped"]) == (1, 2)
    with api.store.session() as s:
        assert set(s.scalars(select(Event.message_id))) == {"who", "other"}


def test_settings_for_analytics_js(api: Api) -> None:
    found = httpx.get(f"{api.url}/v1/projects/{api.write_key}/settings").json()
    segment = found["integrations"]["Segment.io"]
    assert segment == {
        "apiKey": api.write_key,
        "apiHost": api.url.removeprefix("http://") + "/v1",
        "protocol": "http",
    }
    assert found["metrics"]["sampleRate"] == 0
    assert httpx.get(f"{api.url}/v1/projects/kzw_0000000000000000_x/settings").status_code == 401
