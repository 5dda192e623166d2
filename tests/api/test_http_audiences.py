"""/v1/audiences/{name}/visitors: cookie audiences from real tracked events, ads consent, scope and paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from live_server import Api, make_key

from kizuna.store.tables import Product
from kizuna.store.types import utcnow

AUDIENCES = """
audiences:
  - name: skincare
    viewed: {category: スキンケア}
    lookback_days: 30
    not_bought_days: 30
  - name: one-serum
    viewed: {sku: SERUM}
"""


def _track(api: Api, batch: list[dict[str, object]]) -> None:
    with api.tracker() as c:
        assert c.post("/v1/batch", json={"batch": batch}).status_code == 200


def _viewed(anonymous_id: str, sku: str, days_ago: int = 1) -> dict[str, object]:
    at = (utcnow() - timedelta(days=days_ago)).isoformat()
    return {
        "type": "track",
        "event": "Product Viewed",
        "anonymousId": anonymous_id,
        "properties": {"sku": sku},
        "timestamp": at,
        "messageId": f"v-{anonymous_id}-{sku}-{days_ago}",
    }


def _consent(api: Api, anonymous_id: str, ads: object, user_id: str | None = None) -> None:
    body: dict[str, object] = {"anonymousId": anonymous_id, "purposes": {"ads": ads}}
    if user_id:
        body["userId"] = user_id
    with api.tracker() as c:
        assert c.post("/v1/consent", json=body).status_code == 200


def test_viewers_who_did_not_buy_and_allow_ads(serve: Callable[..., Api], tmp_path: Path) -> None:
    path = tmp_path / "audiences.yaml"
    path.write_text(AUDIENCES, encoding="utf-8")
    api = serve(web_audiences_file=path)
    with api.store.session() as s, s.begin():
        s.add_all(
            [
                Product(sku="SERUM", title="美容液", category_path="スキンケア/美容液"),
                Product(sku="LOTION", title="化粧水", category_path="スキンケア/化粧水"),
                Product(sku="BEANS", title="コーヒー豆", category_path="コーヒー/豆"),
            ]
        )
    _track(
        api,
        [
            _viewed("a-yes", "SERUM"),  # allows ads: in
            _viewed("a-no", "SERUM"),  # refused ads: out
            _viewed("a-silent", "LOTION"),  # never decided: ads are opt-in, out
            _viewed("a-old", "SERUM", days_ago=40),  # outside the lookback: out
            _viewed("a-coffee", "BEANS"),  # another category: out
            _viewed("a-buyer", "SERUM"),  # bought it: out
            _viewed("a-known", "LOTION"),  # linked to a customer who granted ads: in
        ],
    )
    _track(
        api,
        [
            {"type": "identify", "userId": "u-buyer", "anonymousId": "a-buyer", "messageId": "i-1"},
            {
                "type": "track",
                "event": "Order Completed",
                "userId": "u-buyer",
                "anonymousId": "a-buyer",
                "properties": {"order_id": "o-1", "products": [{"sku": "SERUM", "price": 3000}]},
                "messageId": "o-1",
            },
            {"type": "identify", "userId": "u-known", "anonymousId": "a-known", "messageId": "i-2"},
        ],
    )
    for anonymous_id in ("a-yes", "a-old", "a-coffee", "a-buyer"):
        _consent(api, anonymous_id, True)
    _consent(api, "a-no", True)
    _consent(api, "a-no", False)  # changed their mind: the latest decision wins
    _consent(api, "a-known", "granted", user_id="u-known")

    reader = make_key(api.store, "secret", "audiences:read")
    with api.reader(reader) as c:
        whole = c.get("/v1/audiences/skincare/visitors").json()
        assert whole["audience"] == "skincare" and whole["count"] == 2
        assert whole["anonymous_ids"] == ["a-known", "a-yes"] and whole["next_cursor"] is None
        assert whole["generated_at"]
        first = c.get("/v1/audiences/skincare/visitors", params={"limit": 1}).json()
        assert (first["anonymous_ids"], first["next_cursor"], first["count"]) == (["a-known"], "a-known", 2)
        rest = c.get("/v1/audiences/skincare/visitors", params={"limit": 1, "cursor": "a-known"}).json()
        assert (rest["anonymous_ids"], rest["next_cursor"]) == (["a-yes"], None)
        assert c.get("/v1/audiences/one-serum/visitors").json()["anonymous_ids"] == ["a-yes"]
        missing = c.get("/v1/audiences/nope/visitors")
        assert missing.status_code == 404 and "skincare" in missing.json()["message"]
    with api.reader(make_key(api.store, "secret", "profiles:read")) as c:
        assert c.get("/v1/audiences/skincare/visitors").status_code == 403
    with httpx.Client(base_url=api.url) as c:
        assert c.get("/v1/audiences/skincare/visitors").status_code == 401


def test_pages_after_the_first_read_the_first_pages_list(serve: Callable[..., Api], tmp_path: Path) -> None:
    path = tmp_path / "audiences.yaml"
    path.write_text(AUDIENCES, encoding="utf-8")
    api = serve(web_audiences_file=path)
    with api.store.session() as s, s.begin():
        s.add(Product(sku="SERUM", title="美容液", category_path="スキンケア/美容液"))
    _track(api, [_viewed("a-1", "SERUM"), _viewed("a-3", "SERUM")])
    for anonymous_id in ("a-1", "a-2", "a-3"):
        _consent(api, anonymous_id, True)
    url = "/v1/audiences/one-serum/visitors"
    with api.reader(make_key(api.store, "secret", "audiences:read")) as c:
        first = c.get(url, params={"limit": 1}).json()
        assert (first["anonymous_ids"], first["count"]) == (["a-1"], 2)
        _track(api, [_viewed("a-2", "SERUM")])  # joins while the listing is under way
        rest = c.get(url, params={"limit": 1, "cursor": "a-1"}).json()
        assert (rest["anonymous_ids"], rest["count"], rest["generated_at"]) == (
            ["a-3"],
            2,
            first["generated_at"],
        )
        again = c.get(url, params={"limit": 1}).json()  # a new listing sees the newcomer
        assert again["count"] == 3 and again["generated_at"] >= first["generated_at"]


def test_a_cancelled_order_is_no_purchase_for_a_cookie_audience(
    serve: Callable[..., Api], tmp_path: Path
) -> None:
    path = tmp_path / "audiences.yaml"
    path.write_text(AUDIENCES, encoding="utf-8")
    api = serve(web_audiences_file=path)
    with api.store.session() as s, s.begin():
        s.add(Product(sku="SERUM", title="美容液", category_path="スキンケア/美容液"))
    order = {"order_id": "o-9", "products": [{"sku": "SERUM", "price": 3000}]}
    _track(api, [_viewed("a-undecided", "SERUM"), _viewed("a-keeper", "SERUM")])
    _track(
        api,
        [
            {"type": "identify", "userId": "u-9", "anonymousId": "a-undecided", "messageId": "i-9"},
            {"type": "track", "event": "Order Completed", "userId": "u-9", "anonymousId": "a-undecided",
             "properties": order, "messageId": "o-9"},
            {"type": "track", "event": "Order Cancelled", "userId": "u-9", "anonymousId": "a-undecided",
             "properties": {"order_id": "o-9"}, "messageId": "c-9"},
            {"type": "identify", "userId": "u-10", "anonymousId": "a-keeper", "messageId": "i-10"},
            {"type": "track", "event": "Order Completed", "userId": "u-10", "anonymousId": "a-keeper",
             "properties": {**order, "order_id": "o-10"}, "messageId": "o-10"},
        ],
    )  # fmt: skip
    _consent(api, "a-undecided", "granted", user_id="u-9")
    _consent(api, "a-keeper", "granted", user_id="u-10")
    with api.reader(make_key(api.store, "secret", "audiences:read")) as c:
        # Cancelled: viewed and did not buy after all. Kept: bought.
        assert c.get("/v1/audiences/one-serum/visitors").json()["anonymous_ids"] == ["a-undecided"]
