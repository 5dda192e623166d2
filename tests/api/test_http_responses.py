"""Links in messages over real HTTP: one-click unsubscribe, the open pixel and tracked clicks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from live_server import Api
from sqlalchemy import func, select

from kizuna.channels.tokens import link_token
from kizuna.config import Settings
from kizuna.privacy.consent import may, record_consent
from kizuna.security.stored import link_secret
from kizuna.store.automation import Delivery, Response
from kizuna.store.tables import Consent, Customer

SECRET = "a-secret-for-links-in-messages"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def links(serve: Callable[..., Api]) -> Api:
    """A server that checks links signed under SECRET."""
    return serve(link_secret=SECRET)


def _sent(api: Api) -> tuple[int, int, str]:
    """A customer who granted email, an email sent to them; (customer id, delivery id, delivery key)."""
    at = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    with api.store.session() as s, s.begin():
        who = Customer(external_id="taro", email="taro@example.jp", attributes={})
        s.add(who)
        s.flush()
        record_consent(s, who.id, "email", "granted", at=at)
        sent = Delivery(
            key=f"0:send:{who.id}:once", step="send", customer_id=who.id, channel="email", arm="a",
            payload={}, status="sent", created_at=at, due_at=at, sent_at=at,
        )  # fmt: skip
        s.add(sent)
        s.flush()
        return who.id, sent.id, sent.key


def _responses(api: Api, kind: str) -> list[Response]:
    with api.store.session() as s:
        return list(s.scalars(select(Response).where(Response.kind == kind).order_by(Response.id)))


def _email_decisions(api: Api, customer_id: int) -> int:
    with api.store.session() as s:
        counted = select(func.count()).where(Consent.customer_id == customer_id, Consent.purpose == "email")
        return s.scalar(counted) or 0


def test_one_click_unsubscribe_withdraws_email_once(links: Api) -> None:
    who, sent, key = _sent(links)
    path = f"/v1/unsubscribe/{link_token(key, SECRET, 'unsubscribe')}"
    with httpx.Client(base_url=links.url, timeout=30) as c:
        page = c.get(path)
        assert page.status_code == 200 and 'method="post"' in page.text and "配信停止" in page.text
        assert (
            _email_decisions(links, who) == 1 and _responses(links, "unsubscribe") == []
        )  # GET changes nothing
        for _ in range(2):
            done = c.post(path, data=ONE_CLICK, headers={"User-Agent": "Mozilla/5.0 Firefox/120.0"})
            assert done.status_code == 200 and "Unsubscribed" in done.text
    with links.store.session() as s:
        assert not may(s, who, "email")
        latest = s.scalars(
            select(Consent).where(Consent.customer_id == who).order_by(Consent.id.desc())
        ).first()
        assert latest is not None and (latest.status, latest.source) == ("withdrawn", "one-click unsubscribe")
    assert _email_decisions(links, who) == 2  # the second POST recorded nothing new
    [response] = _responses(links, "unsubscribe")
    assert response.delivery_id == sent and response.details == {"user_agent": "Firefox"}


def test_bad_and_repurposed_unsubscribe_tokens_are_404(links: Api) -> None:
    who, _, key = _sent(links)
    genuine = link_token(key, SECRET, "unsubscribe")
    with httpx.Client(base_url=links.url, timeout=30) as c:
        for token in (
            link_token(key, SECRET, "open"),
            genuine[:-2] + "AA",
            link_token(key, "wrong-secret-x", "unsubscribe"),
        ):
            for method in ("GET", "POST"):
                refused = c.request(method, f"/v1/unsubscribe/{token}", data=ONE_CLICK)
                assert refused.status_code == 404, token
                assert "link is not genuine" in refused.json()["message"]
    with links.store.session() as s:
        assert may(s, who, "email")
    assert _responses(links, "unsubscribe") == []


def test_open_pixel_records_each_open_and_answers_a_gif(links: Api) -> None:
    _, sent, key = _sent(links)
    with httpx.Client(base_url=links.url, timeout=30) as c:
        for _ in range(2):
            pixel = c.get(f"/v1/o/{link_token(key, SECRET, 'open')}.gif")
            assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
            assert pixel.content.startswith(b"GIF89a") and "no-store" in pixel.headers["cache-control"]
        for token in (link_token(key, SECRET, "unsubscribe"), "garbage"):
            refused = c.get(f"/v1/o/{token}.gif")
            assert refused.status_code == 200 and refused.content == pixel.content
    assert [r.delivery_id for r in _responses(links, "open")] == [sent, sent]


def test_clicks_redirect_only_to_the_signed_url(links: Api) -> None:
    _, sent, key = _sent(links)
    url = "https://shop.example.jp/p/tea?utm_source=mail"
    token = link_token(key, SECRET, "click", url=url)
    with httpx.Client(base_url=links.url, timeout=30, follow_redirects=False) as c:
        moved = c.get(f"/v1/c/{token}", params={"u": url})
        assert moved.status_code == 302 and moved.headers["location"] == url
        for target in ("https://evil.example.com/", url + "&x=1"):
            assert c.get(f"/v1/c/{token}", params={"u": target}).status_code == 404
        assert c.get(f"/v1/c/{link_token(key, SECRET, 'open')}", params={"u": url}).status_code == 404
    [click] = _responses(links, "click")
    assert click.delivery_id == sent and click.details["url"] == url


def test_without_a_configured_secret_links_are_signed_under_the_one_kizuna_keeps(api: Api) -> None:
    _, sent, key = _sent(api)
    settings = Settings()  # the server's: KIZUNA_DATA_DIR is the test's folder
    kept = link_secret(settings)
    assert (settings.data_dir / "link-secret").stat().st_mode & 0o777 == 0o600
    with httpx.Client(base_url=api.url, timeout=30) as c:
        forged = c.post(f"/v1/unsubscribe/{link_token(key, SECRET, 'unsubscribe')}", data=ONE_CLICK)
        assert forged.status_code == 404
        genuine = c.post(f"/v1/unsubscribe/{link_token(key, kept, 'unsubscribe')}", data=ONE_CLICK)
        assert genuine.status_code == 200
    [unsubscribed] = _responses(api, "unsubscribe")
    assert unsubscribed.delivery_id == sent
