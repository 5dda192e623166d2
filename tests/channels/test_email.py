"""The email channel: templates rendered and parsed back, a real local SMTP server, throttling, unsubscribe
tokens, and a dispatch end to end."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from channel_contract import NOW, RECIPIENT, ChannelContract, sample_delivery
from outbox_seed import T0, customer, delivery, get
from sqlalchemy import update

from kizuna.channels.base import Channel, PermanentError, RenderContext, Rendered, TransientError
from kizuna.channels.dispatch import dispatch
from kizuna.channels.email import (
    DELIVERY_HEADER,
    EmailChannel,
    UnsubscribeTokenError,
    read_unsubscribe_token,
    unsubscribe_token,
)
from kizuna.channels.registry import make_channel
from kizuna.config import Settings
from kizuna.errors import ConfigError
from kizuna.store import Store
from kizuna.store.tables import Customer

SECRET = "unsubscribe-secret-0123456789"
BASE = "https://kizuna.example.jp"


class Handler:
    """Keeps every message; refuses recipients at ``rejects.example.jp`` with 550."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.endswith("@rejects.example.jp"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        data = envelope.content
        assert isinstance(data, bytes)
        parsed = message_from_bytes(data, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, int]]:
    """An SMTP server on a free loopback port, for the length of one test."""
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _channel(port: int, cls: type[EmailChannel] = EmailChannel, **overrides: Any) -> EmailChannel:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": "none",
        "timeout": 5,
        "from_address": "Shop <news@shop.example.jp>",
        "public_base_url": BASE,
        "unsubscribe_secret": SECRET,
    }
    return cls(**{**values, **overrides})


def _parse(body: bytes) -> EmailMessage:
    parsed = message_from_bytes(body, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


class TestEmailContract(ChannelContract):
    template = "cart-reminder"

    @pytest.fixture(autouse=True)
    def _server(self, smtp: tuple[Handler, int]) -> None:
        self.handler, self.port = smtp

    def make(self) -> Channel:
        return _channel(self.port)

    def delivered_keys(self) -> list[str]:
        return [str(m[DELIVERY_HEADER]) for m in self.handler.messages]

    def make_failing(self) -> list[Channel]:
        return [_channel(_free_port()), _channel(self.port, cls=_RefusedRecipient)]


class _RefusedRecipient(EmailChannel):
    """Sends every message to an address the server refuses."""

    def send(self, rendered: Rendered) -> None:
        super().send(replace(rendered, target="nobody@rejects.example.jp"))


def test_render_builds_a_multipart_message_with_the_customers_content() -> None:
    channel = _channel(25)
    items = [
        {"product_id": 3, "title": "緑茶ティーバッグ", "price": 1200, "reason": "一緒に買われています"},
        {"product_id": 4, "title": "急須 <青>", "price": 3500, "reason": None},
    ]
    payload = {"coupon": "CART-9", "recommend": {"algorithm": "blend", "items": items}}
    base = sample_delivery("email", "cart-reminder")
    rendered = channel.render(replace(base, payload=payload), RECIPIENT, RenderContext(NOW, "cart"))
    message = _parse(rendered.body)
    text, html = _parts(message)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "カートに商品が残っています"
    assert message["To"] == RECIPIENT.email and rendered.target == RECIPIENT.email
    assert message["From"] == "Shop <news@shop.example.jp>"
    assert message[DELIVERY_HEADER] == base.key
    assert message["Message-ID"].endswith("@shop.example.jp>")
    assert message["Date"].datetime == NOW
    for part in (text, html):
        assert "山田 花子 様" in part and "CART-9" in part and "緑茶ティーバッグ" in part
        assert "¥1,200" in part
    assert "急須 <青>" in text and "急須 &lt;青&gt;" in html


def test_html_escapes_customer_data() -> None:
    channel = _channel(25)
    hostile = replace(RECIPIENT, name="<script>alert(1)</script>")
    rendered = channel.render(sample_delivery("email", None), hostile, RenderContext(NOW))
    text, html = _parts(_parse(rendered.body))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script> 様" in text
    assert _parse(rendered.body)["Subject"] == "お知らせ"


def test_the_unsubscribe_headers_follow_rfc_8058() -> None:
    rendered = _channel(25).render(
        sample_delivery("email", "new-product-news"), RECIPIENT, RenderContext(NOW)
    )
    message = _parse(rendered.body)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (part.strip().strip("<>") for part in str(message["List-Unsubscribe"]).split(","))
    assert https.startswith(f"{BASE}/v1/unsubscribe/")
    token = https.rsplit("/", 1)[1]
    assert read_unsubscribe_token(token, SECRET) == rendered.key
    assert mailto == f"mailto:news@shop.example.jp?subject=unsubscribe%20{token}"
    assert https in _parts(message)[1]


def test_unsubscribe_tokens_round_trip_and_refuse_tampering() -> None:
    key = "12:reminder:345:once:2"
    token = unsubscribe_token(key, SECRET)
    assert read_unsubscribe_token(token, SECRET) == key
    body, mac = token.split(".")
    forged = unsubscribe_token("12:reminder:346:once:2", SECRET).split(".")[0]
    for bad in (f"{forged}.{mac}", f"{body}.{mac[:-2]}AA", body, "not a token!", f"{body}.%%"):
        with pytest.raises(UnsubscribeTokenError):
            read_unsubscribe_token(bad, SECRET)
    with pytest.raises(UnsubscribeTokenError):
        read_unsubscribe_token(token, "another-secret-entirely")


def test_a_missing_template_or_address_fails_permanently() -> None:
    channel = _channel(25)
    with pytest.raises(PermanentError, match=r"no email template 'nope\.txt'"):
        channel.render(sample_delivery("email", "nope"), RECIPIENT, RenderContext(NOW))
    nobody = replace(RECIPIENT, email=None)
    with pytest.raises(PermanentError, match="no email address"):
        channel.render(sample_delivery("email", None), nobody, RenderContext(NOW))


def test_templates_come_from_the_configured_folder(tmp_path: Any) -> None:
    (tmp_path / "promo.txt").write_text("Subject: Hello {{ customer.name }}\n\n{{ coupon }}\n")
    (tmp_path / "promo.html").write_text("<p>{{ coupon }}</p>")
    (tmp_path / "nosubject.txt").write_text("no subject line\n")
    (tmp_path / "nosubject.html").write_text("<p></p>")
    channel = _channel(25, templates_dir=tmp_path)
    message = _parse(channel.render(sample_delivery("email", "promo"), RECIPIENT, RenderContext(NOW)).body)
    assert message["Subject"] == "Hello 山田 花子"
    assert _parts(message)[0].strip() == "WELCOME-1234ABCD"
    with pytest.raises(PermanentError, match="Subject"):
        channel.render(sample_delivery("email", "nosubject"), RECIPIENT, RenderContext(NOW))


def test_the_smtp_server_receives_the_message(smtp: tuple[Handler, int]) -> None:
    handler, port = smtp
    channel = _channel(port)
    rendered = channel.render(sample_delivery("email", "cart-reminder"), RECIPIENT, RenderContext(NOW))
    channel.send(rendered)
    [message] = handler.messages
    assert handler.envelopes == [("news@shop.example.jp", [str(RECIPIENT.email)])]
    assert message[DELIVERY_HEADER] == rendered.key
    assert message["Subject"] == "カートに商品が残っています"
    assert "WELCOME-1234ABCD" in _parts(message)[0]


def test_a_refused_recipient_fails_and_an_unreachable_server_is_retried(smtp: tuple[Handler, int]) -> None:
    _, port = smtp
    channel = _channel(port)
    rendered = channel.render(sample_delivery("email", None), RECIPIENT, RenderContext(NOW))
    with pytest.raises(PermanentError, match="550"):
        channel.send(replace(rendered, target="x@rejects.example.jp"))
    with pytest.raises(TransientError, match="ConnectionRefusedError"):
        _channel(_free_port()).send(rendered)


def test_throttling_spaces_sends_evenly(smtp: tuple[Handler, int]) -> None:
    handler, port = smtp
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    channel = _channel(port, per_minute=30, clock=lambda: clock[0], sleep=sleep)
    rendered = channel.render(sample_delivery("email", None), RECIPIENT, RenderContext(NOW))
    channel.send(rendered)
    channel.send(rendered)
    clock[0] += 0.5
    channel.send(rendered)
    clock[0] += 10
    channel.send(rendered)
    assert slept == [2.0, 1.5]
    assert len(handler.messages) == 4


def test_the_channel_is_built_from_settings(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="KIZUNA_EMAIL_SMTP_HOST, KIZUNA_EMAIL_FROM"):
        make_channel("email", Settings(public_base_url=BASE))
    with pytest.raises(ConfigError, match="at least 16"):
        _channel(25, unsubscribe_secret="short")
    with pytest.raises(ConfigError, match="email address"):
        _channel(25, from_address="Shop")
    with pytest.raises(ConfigError, match="no folder"):
        _channel(25, templates_dir=tmp_path / "missing")


def test_dispatch_sends_a_pending_email(store: Store, smtp: tuple[Handler, int]) -> None:
    handler, port = smtp
    settings = Settings(
        email_smtp_host="127.0.0.1",
        email_smtp_port=port,
        email_tls="none",
        email_from="news@shop.example.jp",
        public_base_url=BASE,
        link_secret=SECRET,  # type: ignore[arg-type]
    )
    who = customer(store)
    with store.session() as session, session.begin():
        session.execute(update(Customer).where(Customer.id == who).values(email="hanako@example.jp"))
    sent = delivery(store, who, channel="email", template="new-product-news")

    report = dispatch(store, make_channel("email", settings), now=T0, settings=settings)

    assert report.sent == 1
    row = get(store, sent)
    assert row.status == "sent" and row.sent_at == T0
    [message] = handler.messages
    assert message[DELIVERY_HEADER] == row.key and message["To"] == "hanako@example.jp"
    assert message["Subject"] == "新商品のご案内"
    assert str(row.payload["coupon"]) in _parts(message)[0]
