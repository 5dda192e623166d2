"""/v1/personalize over HTTP: write key, batched slots, GET and POST, userId only with a secret key, CORS."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from live_server import Api, make_key

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from web_seed import shop, web_delivery, write_slots

from kizuna.config import Settings
from kizuna.recommend.service import models_dir
from kizuna.store.types import utcnow


def _serve(serve: Callable[..., Api], tmp_path: Path) -> tuple[Api, dict[str, int]]:
    api = serve(web_slots_file=write_slots(tmp_path / "slots.yaml"))
    return api, shop(api.store, models_dir(Settings()))


def test_the_snippet_asks_for_all_slots_in_one_text_plain_post(
    serve: Callable[..., Api], tmp_path: Path
) -> None:
    api, ids = _serve(serve, tmp_path)
    web_delivery(api.store, ids["me"], "hero", "spring", at=utcnow())
    body = {
        "writeKey": api.write_key,
        "anonymousId": "dev-me",
        "slots": ["hero", "related", "popup"],
        "product": "beans",
        "lang": "ja",
        "returning": False,
    }
    with httpx.Client(base_url=api.url) as c:
        answer = c.post("/v1/personalize", content=json.dumps(body), headers={"Content-Type": "text/plain"})
        assert answer.status_code == 200
        hero, related, popup = answer.json()["slots"]
        assert hero["reason"] == "scenario:spring-news" and hero["content"]["title"] == "春のおすすめ"
        assert related["items"][0]["sku"] == "filter" and related["items"][0]["url"] == "/shop/p/filter"
        assert popup["popup"]["trigger"] == "scroll"
        again = c.post("/v1/personalize", content=json.dumps(body)).json()["slots"][0]
        assert again["reason"] == "first_visit"  # the scenario's send was shown once


def test_get_with_the_key_in_the_query_answers_one_slot(serve: Callable[..., Api], tmp_path: Path) -> None:
    api, _ = _serve(serve, tmp_path)
    with httpx.Client(base_url=api.url) as c:
        one = c.get("/v1/personalize", params={"writeKey": api.write_key, "slot": "hero", "lang": "en"})
        assert one.json() == {
            "slot": "hero",
            "personalised": True,
            "kind": "content",
            "reason": "first_visit",
            "content": {"title": "Welcome", "link": "/shop"},
        }
        two = c.get(
            "/v1/personalize", params=[("writeKey", api.write_key), ("slot", "hero"), ("slot", "nope")]
        )
        assert [a["reason"] for a in two.json()["slots"]] == ["first_visit", "unknown_slot"]


def test_keys_and_bad_requests(serve: Callable[..., Api], tmp_path: Path) -> None:
    api, _ = _serve(serve, tmp_path)
    with httpx.Client(base_url=api.url) as c:
        assert c.get("/v1/personalize", params={"slot": "hero"}).status_code == 401
        wrong = c.get("/v1/personalize", params={"slot": "hero", "writeKey": "kzw_nope_nope"})
        assert wrong.status_code == 401
        both = c.post("/v1/personalize", json={"writeKey": api.write_key, "slot": "a", "slots": ["b"]})
        assert both.status_code == 400 and "slot" in both.json()["message"]
        claimed = c.post("/v1/personalize", json={"writeKey": api.write_key, "slot": "hero", "userId": "me"})
        assert claimed.status_code == 403 and "secret key" in claimed.json()["message"]
    reader = make_key(api.store, "secret", "profiles:read")
    with api.reader(reader) as c:
        server_side = c.post("/v1/personalize", json={"slot": "for-you", "userId": "me", "lang": "en"})
        assert server_side.status_code == 200 and server_side.json()["items"][0]["sku"] == "filter"
    with api.reader(make_key(api.store, "secret", "events:read")) as c:
        assert c.post("/v1/personalize", json={"slot": "hero", "userId": "me"}).status_code == 403


def test_cors_lets_any_shop_page_ask(serve: Callable[..., Api], tmp_path: Path) -> None:
    api, _ = _serve(serve, tmp_path)
    with httpx.Client(base_url=api.url) as c:
        answer = c.post(
            "/v1/personalize",
            content=json.dumps({"writeKey": api.write_key, "slots": ["hero"]}),
            headers={"Origin": "https://shop.example.jp", "Content-Type": "text/plain"},
        )
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
