"""Profiles, events, privacy and consent over real HTTP, with secret and write keys, on each backend."""

from __future__ import annotations

import httpx
from live_server import Api, make_key
from sqlalchemy import func, select

from kizuna.privacy.consent import consent_state
from kizuna.store.access import PrivacyRequest
from kizuna.store.tables import Customer, Event, Order


def _shop(api: Api) -> None:
    order = {"order_id": "o-1", "total": 1200, "products": [{"sku": "TEA", "name": "緑茶", "price": 1200}]}
    batch = [
        {"type": "page", "anonymousId": "dev-1", "messageId": "m0"},
        {"type": "identify", "userId": "u-1", "anonymousId": "dev-1", "messageId": "m1",
         "traits": {"email": "taro@example.jp", "name": "山田 太郎", "rank": "gold"}},
        {"type": "track", "userId": "u-1", "event": "Order Completed", "properties": order,
         "messageId": "m2"},
        {"type": "identify", "userId": "u-2", "messageId": "m3", "traits": {"email": "jiro@example.com"}},
    ]  # fmt: skip
    with api.tracker() as c:
        assert c.post("/v1/batch", json={"batch": batch}).status_code == 200


def test_customer_360_search_and_events(api: Api) -> None:
    _shop(api)
    with api.reader() as c:
        profile = c.get("/v1/customers/u-1").json()
        assert profile["customer"]["email"] == "taro@example.jp"
        assert profile["customer"]["attributes"] == {"rank": "gold"}
        assert profile["order_count"] == 1 and profile["revenue"] == 1200.0
        assert profile["recent_orders"][0]["lines"] == [
            {"sku": "TEA", "title": "緑茶", "quantity": 1, "amount": 1200.0}
        ]
        assert [i["value"] for i in profile["identities"]] == ["dev-1"]
        assert {e["message_id"] for e in profile["recent_events"]} == {"m0", "m1", "m2"}
        by_email = c.get("/v1/customers/taro@example.jp").json()
        assert by_email["customer"]["external_id"] == "u-1"
        by_id = c.get(f"/v1/customers/id:{profile['customer']['id']}").json()
        assert by_id["customer"]["external_id"] == "u-1"
        missing = c.get("/v1/customers/nobody")
        assert missing.status_code == 404 and "no customer 'nobody'" in missing.json()["message"]

        found = c.get("/v1/customers", params={"q": "EXAMPLE"}).json()
        assert found["count"] == 2 and [x["external_id"] for x in found["data"]] == ["u-1", "u-2"]
        page = c.get("/v1/customers", params={"q": "example", "limit": 1, "offset": 1}).json()
        assert page["count"] == 2 and [x["external_id"] for x in page["data"]] == ["u-2"]
        assert c.get("/v1/customers", params={"limit": 0}).status_code == 400

        events = c.get("/v1/events", params={"customer": "u-1", "limit": 2}).json()
        assert [e["message_id"] for e in events["data"]] == ["m2", "m1"] and events["next_before"] is not None
        rest = c.get("/v1/events", params={"customer": "u-1", "before": events["next_before"]}).json()
        assert [e["message_id"] for e in rest["data"]] == ["m0"] and rest["next_before"] is None
        named = c.get("/v1/events", params={"name": "Order Completed"}).json()
        assert [e["properties"]["order_id"] for e in named["data"]] == ["o-1"]
        device = c.get("/v1/events", params={"anonymousId": "dev-1", "type": "page"}).json()
        assert device["count"] == 1
        bad = c.get("/v1/events", params={"since": "last week"})
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query.since"


def test_secret_keys_need_the_scope(api: Api) -> None:
    _shop(api)
    none = httpx.get(f"{api.url}/v1/customers/u-1")
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    with api.reader(api.write_key) as c:
        assert c.get("/v1/customers/u-1").status_code == 403
    events_only = make_key(api.store, "secret", "events:read")
    with api.reader(events_only) as c:
        refused = c.get("/v1/customers/u-1")
        assert refused.status_code == 403 and "profiles:read" in refused.json()["message"]
        assert c.get("/v1/events").status_code == 200
        assert c.get("/v1/customers/u-1/export").status_code == 403
        assert c.delete("/v1/customers/u-1").status_code == 403
    with api.reader("kzs_0123456789abcdef_wrong") as c:
        assert c.get("/v1/events").status_code == 401
    with api.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 2


def test_export_and_delete(api: Api) -> None:
    _shop(api)
    privacy = make_key(api.store, "secret", "privacy")
    with api.reader(privacy) as c:
        export = c.get("/v1/customers/u-1/export")
        assert export.status_code == 200
        held = export.json()
        assert held["customer"]["email"] == "taro@example.jp"
        assert {e["message_id"] for e in held["events"]} == {"m0", "m1", "m2"}
        assert [o["external_id"] for o in held["orders"]] == ["o-1"]
        kept = c.delete("/v1/customers/u-2", params={"mode": "anonymise"})
        assert kept.status_code == 200 and kept.json()["mode"] == "anonymise"
        gone = c.delete("/v1/customers/u-1")
        assert gone.status_code == 200, gone.text
        assert gone.json()["deleted"]["customers"] == 1 and gone.json()["deleted"]["orders"] == 1
        assert c.delete("/v1/customers/u-1").status_code == 404
        assert c.delete("/v1/customers/u-2", params={"mode": "shred"}).status_code == 400
    with api.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0
        assert s.scalar(select(func.count()).select_from(Event).where(Event.anonymous_id == "dev-1")) == 0
        requests = s.scalars(select(PrivacyRequest.kind).order_by(PrivacyRequest.id)).all()
        assert requests == ["export", "deletion", "deletion"]
        assert (
            s.scalars(select(PrivacyRequest.requested_by)).first() == f"api key {privacy[:20]} (test secret)"
        )


def test_consent_from_the_snippet(api: Api) -> None:
    _shop(api)
    with api.tracker() as c:
        known = c.post(
            "/v1/consent",
            json={
                "anonymousId": "dev-1",
                "purposes": {"tracking": "granted", "email": False},
                "policyVersion": "v3",
            },
        )
        assert known.json() == {"success": True, "known": True, "recorded": 2}
        stranger = c.post("/v1/consent", json={"anonymousId": "new-device", "purposes": {"tracking": True}})
        assert stranger.json() == {"success": True, "known": False, "recorded": 0}
        wrong = c.post("/v1/consent", json={"userId": "u-1", "purposes": {"telepathy": True}})
        assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"].startswith(
            "purposes.telepathy"
        )
        nobody = c.post("/v1/consent", json={"purposes": {"tracking": True}})
        assert nobody.status_code == 400 and "userId or anonymousId" in nobody.json()["message"]
    with api.store.session() as s:
        customer_id = s.scalar(select(Customer.id).where(Customer.external_id == "u-1"))
        assert customer_id is not None
        state = consent_state(s, customer_id)
    assert (state["tracking"].status, state["tracking"].source, state["tracking"].policy_version) == (
        "granted",
        "snippet",
        "v3",
    )
    assert state["email"].status == "denied"


def test_health_openapi_and_transmission_page(api: Api) -> None:
    assert httpx.get(f"{api.url}/healthz").json() == {"status": "ok", "database": api.store.dialect}
    spec = httpx.get(f"{api.url}/openapi.json").json()
    for path in ("/v1/batch", "/v1/identify", "/v1/customers/{customer}/export", "/kizuna.js", "/healthz"):
        assert path in spec["paths"]
    batch_body = spec["paths"]["/v1/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch_body == {"$ref": "#/components/schemas/Batch"} and "Track" in spec["components"]["schemas"]
    page = httpx.get(f"{api.url}/privacy/transmission")
    assert page.status_code == 200 and "外部送信" in page.text and "Anonymous id" in page.text
    data = httpx.get(f"{api.url}/privacy/transmission", params={"format": "json", "lang": "en"}).json()
    assert data["items"][0]["en"]["name"].startswith("Anonymous id")
    script = httpx.get(f"{api.url}/kizuna.js")
    assert script.headers["content-type"].startswith("application/javascript")
    assert '"consent": "opt-in"' in script.text and "/*KIZUNA_DEFAULTS*/" not in script.text
