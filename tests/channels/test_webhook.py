"""The webhook channel against a real local HTTP server: signatures, what is sent, and which answers retry."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from channel_contract import RECIPIENT, ChannelContract, sample_delivery
from outbox_seed import T0, customer, delivery, external_id, get, scenario
from pydantic import ValidationError
from webhook_receiver import Receiver

from kizuna.channels.base import Channel, PermanentError, RenderContext
from kizuna.channels.dispatch import dispatch
from kizuna.channels.registry import make_channel
from kizuna.channels.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    verify_signature,
)
from kizuna.config import Settings
from kizuna.errors import ConfigError
from kizuna.store import Store

SECRET = "s3cret-shared-with-the-receiver"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class TestWebhookContract(ChannelContract):
    template = "line-welcome"

    @pytest.fixture(autouse=True)
    def _receiver(self, receiver: Receiver) -> None:
        self.receiver = receiver
        receiver.answers["/rejects"] = 400
        receiver.answers["/broken"] = 503

    def make(self) -> Channel:
        return WebhookChannel(url=self.receiver.url(), secret=SECRET, timeout=2)

    def delivered_keys(self) -> list[str]:
        return [r.headers[DELIVERY_HEADER] for r in self.receiver.requests if r.path == "/hook"]

    def make_failing(self) -> list[Channel]:
        return [
            WebhookChannel(url=self.receiver.url("/rejects"), secret=SECRET, timeout=2),
            WebhookChannel(url=self.receiver.url("/broken"), secret=SECRET, timeout=2),
            WebhookChannel(url=f"http://127.0.0.1:{_closed_port()}/hook", secret=SECRET, timeout=2),
        ]


def _settings(receiver: Receiver, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "webhook_url": receiver.url(),
        "webhook_secret": SECRET,
        "webhook_timeout_seconds": 0.3,
        "delivery_backoff_seconds": 30,
    }
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


def test_a_sent_delivery_is_signed_and_carries_what_the_receiver_needs(
    store: Store, receiver: Receiver
) -> None:
    settings = _settings(receiver)
    scenario_id = scenario(store, "welcome")
    who = customer(store)
    sent = delivery(store, who, scenario_id=scenario_id, payload={"coupon": "WELCOME-1", "items": [1, 2]})

    report = dispatch(store, make_channel("webhook", settings), now=T0, settings=settings)

    assert report.sent == 1
    [request] = receiver.requests
    row = get(store, sent)
    assert request.headers[DELIVERY_HEADER] == row.key
    assert request.headers[TIMESTAMP_HEADER] == str(int(T0.timestamp()))
    assert verify_signature(SECRET, request.body, request.headers, now=T0.timestamp() + 10)
    document = json.loads(request.body)
    assert document == {
        "key": row.key,
        "scenario": {"id": scenario_id, "name": "welcome"},
        "step": "send",
        "arm": "a",
        "customer": {"external_id": external_id(store, who)},
        "template": "line-welcome",
        "payload": {"coupon": "WELCOME-1", "items": [1, 2]},
    }
    assert row.status == "sent" and row.sent_at == T0


def test_verify_signature_refuses_tampering_other_secrets_and_replays(receiver: Receiver) -> None:
    channel = WebhookChannel(url=receiver.url(), secret=SECRET)
    channel.send(channel.render(sample_delivery("webhook", "t"), RECIPIENT, RenderContext(T0)))
    [request] = receiver.requests
    now = T0.timestamp()
    assert verify_signature(SECRET, request.body, request.headers, now=now)
    lowered = {name.lower(): value for name, value in request.headers.items()}
    assert verify_signature(SECRET, request.body, lowered, now=now)
    assert not verify_signature("another-secret-entirely", request.body, request.headers, now=now)
    assert not verify_signature(
        SECRET, request.body.replace(b"WELCOME", b"WELCOMX"), request.headers, now=now
    )
    assert not verify_signature(SECRET, request.body, request.headers, now=now + 301, tolerance=300)
    assert verify_signature(SECRET, request.body, request.headers, now=now + 299, tolerance=300)
    later = {**request.headers, TIMESTAMP_HEADER: str(int(now) + 60)}
    assert not verify_signature(SECRET, request.body, later, now=now + 60)
    unsigned = {k: v for k, v in request.headers.items() if k != SIGNATURE_HEADER}
    assert not verify_signature(SECRET, request.body, unsigned, now=now)


def test_a_server_error_is_retried_later(store: Store, receiver: Receiver) -> None:
    receiver.answers["/hook"] = 500
    settings = _settings(receiver)
    row = delivery(store, customer(store))

    report = dispatch(store, make_channel("webhook", settings), now=T0, settings=settings)

    assert (report.retrying, report.failed) == (1, 0)
    stored = get(store, row)
    assert stored.status == "pending" and stored.attempts == 1
    assert stored.due_at == T0 + timedelta(seconds=settings.delivery_backoff_seconds)
    assert stored.error is not None and "HTTP 500" in stored.error
    receiver.answers["/hook"] = 200
    assert dispatch(store, make_channel("webhook", settings), now=stored.due_at, settings=settings).sent == 1
    assert len(receiver.requests) == 2
    assert len({r.headers[DELIVERY_HEADER] for r in receiver.requests}) == 1


def test_a_client_error_fails_the_delivery(store: Store, receiver: Receiver) -> None:
    receiver.answers["/hook"] = 400
    settings = _settings(receiver)
    row = delivery(store, customer(store))

    report = dispatch(store, make_channel("webhook", settings), now=T0, settings=settings)

    assert (report.failed, report.retrying) == (1, 0)
    stored = get(store, row)
    assert stored.status == "failed" and stored.error is not None and "HTTP 400" in stored.error
    later = T0 + timedelta(days=1)
    assert dispatch(store, make_channel("webhook", settings), now=later, settings=settings).claimed == 0


def test_a_timeout_is_retried_later(store: Store) -> None:
    slow = Receiver(slow_seconds=1.0)
    try:
        slow.answers["/hook"] = "slow"
        settings = _settings(slow, webhook_timeout_seconds=0.2)
        row = delivery(store, customer(store))
        report = dispatch(store, make_channel("webhook", settings), now=T0, settings=settings)
    finally:
        slow.close()
    assert report.retrying == 1
    stored = get(store, row)
    assert stored.status == "pending" and stored.error is not None and "timed out" in stored.error


def test_per_template_urls_choose_the_receiver(store: Store, receiver: Receiver) -> None:
    settings = _settings(receiver, webhook_urls={"sms-reminder": receiver.url("/sms")})
    who = customer(store)
    delivery(store, who, template="sms-reminder")
    delivery(store, who, template="line-welcome")

    assert dispatch(store, make_channel("webhook", settings), now=T0, settings=settings).sent == 2
    assert sorted(r.path for r in receiver.requests) == ["/hook", "/sms"]


def test_a_template_without_a_url_fails_permanently(receiver: Receiver) -> None:
    channel = WebhookChannel(url=None, urls={"sms": receiver.url("/sms")}, secret=SECRET)
    with pytest.raises(PermanentError, match="no webhook URL for template 'line'"):
        channel.render(sample_delivery("webhook", "line"), RECIPIENT, RenderContext(T0))


def test_the_channel_needs_a_url_and_a_secret() -> None:
    with pytest.raises(ConfigError, match="KIZUNA_WEBHOOK_SECRET"):
        make_channel("webhook", Settings(webhook_url="https://hooks.example.jp/k"))
    with pytest.raises(ConfigError, match="KIZUNA_WEBHOOK_URL"):
        make_channel("webhook", Settings(webhook_secret=SECRET))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="at least 16"):
        WebhookChannel(url="https://hooks.example.jp/k", secret="short")
    with pytest.raises(ValidationError, match="http:// or https://"):
        Settings(webhook_url="ftp://hooks.example.jp/k")
    with pytest.raises(ValidationError, match="http:// or https://"):
        Settings(webhook_urls={"sms": "hooks.example.jp"})
    with pytest.raises(ConfigError, match="no channel 'fax'"):
        make_channel("fax")
