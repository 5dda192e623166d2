"""An email sent to a real SMTP server, read back, and its links followed over real HTTP: the open pixel and
the click redirects record responses tied to the delivery's scenario, step and arm."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from live_server import Api
from sqlalchemy import select

from kizuna.channels.dispatch import dispatch
from kizuna.channels.registry import make_channel
from kizuna.channels.tokens import read_link_token
from kizuna.config import Settings
from kizuna.privacy.consent import record_consent
from kizuna.store.automation import Delivery, Response, Scenario
from kizuna.store.tables import Customer

SECRET = "a-secret-for-links-in-messages"
BASE = "https://kizuna.example.jp"
AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
ITEMS = [
    {"product_id": 1, "sku": "TEA-1", "title": "緑茶", "price": 1200, "reason_text": {"ja": "人気です"}},
    {"product_id": 2, "sku": "POT-2", "title": "急須", "price": 3500},
]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 accepted"


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        elif tag == "img" and values.get("src"):
            self.images.append(str(values["src"]))


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _pending_email(api: Api) -> tuple[int, int]:
    """A scenario and a pending email with two recommended items; (scenario id, delivery id)."""
    with api.store.session() as s, s.begin():
        who = Customer(external_id="hanako", name="山田 花子", email="hanako@example.jp", attributes={})
        s.add(who)
        s.flush()
        record_consent(s, who.id, "email", "granted", at=AT)
        flow = Scenario(name="cart", definition={}, status="active", created_at=AT, updated_at=AT)
        s.add(flow)
        s.flush()
        row = Delivery(
            key=f"{flow.id}:mail:{who.id}:once:1", scenario_id=flow.id, step="mail", customer_id=who.id,
            channel="email", template="cart-reminder", arm="b", status="pending", created_at=AT, due_at=AT,
            payload={"coupon": "CART-1", "recommend": {"items": ITEMS}},
        )  # fmt: skip
        s.add(row)
        s.flush()
        return flow.id, row.id


def _local(url: str) -> str:
    """A link's path and query, to request from the test server instead of the public host."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_following_the_links_of_a_sent_email_records_opens_and_clicks(
    serve: Callable[..., Api], inbox: tuple[_Inbox, int]
) -> None:
    handler, port = inbox
    api = serve(link_secret=SECRET)
    scenario_id, delivery_id = _pending_email(api)
    settings = Settings(
        email_smtp_host="127.0.0.1",
        email_smtp_port=port,
        email_tls="none",
        email_from="news@shop.example.jp",
        public_base_url=BASE,
        link_secret=SECRET,  # type: ignore[arg-type]
        shop_product_url="https://shop.example.jp/p/{sku}",
    )
    assert dispatch(api.store, make_channel("email", settings), now=AT, settings=settings).sent == 1
    [message] = handler.messages
    html = message.get_body(("html",))
    assert html is not None
    found = _Html()
    found.feed(str(html.get_content()))
    key = str(message["X-Kizuna-Delivery"])

    [pixel] = found.images
    assert read_link_token(urlsplit(pixel).path.rsplit("/", 1)[1].removesuffix(".gif"), SECRET, "open") == key
    clicks = [h for h in found.hrefs if "/v1/c/" in h]
    targets = [parse_qs(urlsplit(h).query)["u"][0] for h in clicks]
    assert targets == ["https://shop.example.jp/p/TEA-1", "https://shop.example.jp/p/POT-2"]

    with httpx.Client(base_url=api.url, timeout=30, follow_redirects=False) as c:
        image = c.get(_local(pixel), headers={"User-Agent": "Mozilla/5.0 AppleWebKit/605"})
        assert image.status_code == 200 and image.headers["content-type"] == "image/gif"
        moved = c.get(_local(clicks[1]), headers={"User-Agent": "Mozilla/5.0 Chrome/120.0"})
        assert moved.status_code == 302 and moved.headers["location"] == targets[1]

    with api.store.session() as s:
        responses = list(s.scalars(select(Response).order_by(Response.id)))
    assert [r.kind for r in responses] == ["open", "click"]
    for response in responses:
        assert (response.delivery_id, response.scenario_id, response.step, response.arm) == (
            delivery_id, scenario_id, "mail", "b",
        )  # fmt: skip
    assert responses[1].details == {"url": targets[1], "user_agent": "Chrome"}
