"""QR codes on paper over real HTTP: a scan is recorded and redirected to the landing page with the coupon."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from live_server import Api
from sqlalchemy import select

from kizuna.channels.tokens import link_token
from kizuna.store.automation import Delivery, Response
from kizuna.store.tables import Customer

SECRET = "a-secret-for-links-on-paper"


def _mailed(api: Api, payload: dict[str, str]) -> tuple[int, str]:
    at = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    with api.store.session() as s, s.begin():
        who = Customer(external_id=f"hanako-{len(payload)}", attributes={})
        s.add(who)
        s.flush()
        sent = Delivery(
            key=f"0:dm:{who.id}:once", step="dm", customer_id=who.id, channel="direct_mail", arm="a",
            payload=payload, status="sent", created_at=at, due_at=at, sent_at=at,
        )  # fmt: skip
        s.add(sent)
        s.flush()
        return sent.id, sent.key


def test_a_scan_is_recorded_and_leads_to_the_landing_page_with_the_coupon(serve: Callable[..., Api]) -> None:
    api = serve(
        link_secret=SECRET,
        public_base_url="https://shop.example.jp",
        dm_landing_url="https://shop.example.jp/sale",
    )
    sent, key = _mailed(api, {"coupon": "SALE-ABCD2345"})
    plain, plain_key = _mailed(api, {})
    with httpx.Client(base_url=api.url, timeout=30) as c:
        answer = c.get(
            f"/v1/q/{link_token(key, SECRET, 'scan')}", headers={"User-Agent": "Mozilla/5.0 Safari/605"}
        )
        assert answer.status_code == 302
        assert answer.headers["location"] == "https://shop.example.jp/sale?coupon=SALE-ABCD2345"
        bare = c.get(f"/v1/q/{link_token(plain_key, SECRET, 'scan')}")
        assert bare.status_code == 302 and bare.headers["location"] == "https://shop.example.jp/sale"
        assert c.get(f"/v1/q/{link_token(key, SECRET, 'click')}").status_code == 404
        assert c.get(f"/v1/q/{link_token(key, 'another-secret-entirely', 'scan')}").status_code == 404
    with api.store.session() as s:
        scans = list(s.scalars(select(Response).where(Response.kind == "scan").order_by(Response.id)))
    assert [r.delivery_id for r in scans] == [sent, plain]
    assert scans[0].details == {"user_agent": "Safari"}


def test_without_a_landing_url_a_scan_goes_to_the_public_base_url(serve: Callable[..., Api]) -> None:
    api = serve(link_secret=SECRET, public_base_url="https://shop.example.jp")
    _, key = _mailed(api, {"coupon": "X-1"})
    with httpx.Client(base_url=api.url, timeout=30) as c:
        answer = c.get(f"/v1/q/{link_token(key, SECRET, 'scan')}")
    assert answer.headers["location"] == "https://shop.example.jp/?coupon=X-1"
