"""The contract every channel passes. A channel's test module subclasses ``ChannelContract`` and says how to
build the channel (one whose sends succeed and are observed, and ones whose sends fail); the tests here then
run against it. Load it as ``channel_contract`` (see conftest.py).
"""

from __future__ import annotations

import copy
import socket
from datetime import timedelta
from typing import Any, ClassVar

import pytest

from kizuna.channels.base import (
    Channel,
    OutboxDelivery,
    PermanentError,
    Recipient,
    RenderContext,
    TransientError,
)
from kizuna.privacy.consent import Purpose
from kizuna.scenarios.triggers import CHANNEL_PURPOSE
from kizuna.store.types import utcnow

NOW = utcnow().replace(microsecond=0)


def sample_delivery(channel: str, template: str | None, key: str = "7:send:42:once:1") -> OutboxDelivery:
    return OutboxDelivery(
        id=1,
        key=key,
        channel=channel,
        customer_id=42,
        scenario_id=7,
        run_id=99,
        step="send",
        template=template,
        arm="b",
        payload={"template": template, "coupon": "WELCOME-1234ABCD", "recommend": [{"sku": "tea-1"}]},
        attempts=1,
        created_at=NOW,
        due_at=NOW,
    )


RECIPIENT = Recipient(
    id=42,
    external_id="cust-42",
    name="山田 花子",
    email="hanako@example.jp",
    phone="090-0000-0000",
    postal_code="100-0001",
    country="JP",
    prefecture="東京都",
    city="千代田区",
    address_line1="千代田1-1",
)


class ChannelContract:
    """Mixin of contract tests; subclasses set ``template`` and implement the three hooks."""

    template: ClassVar[str | None] = None

    def make(self) -> Channel:
        """A channel whose sends succeed and can be observed with :meth:`delivered_keys`."""
        raise NotImplementedError

    def delivered_keys(self) -> list[str]:
        """The delivery keys the far side of :meth:`make`'s channel has received, in order."""
        raise NotImplementedError

    def make_failing(self) -> list[Channel]:
        """Channels whose sends fail, each in another way (rejected, unreachable, server error ...)."""
        raise NotImplementedError

    @pytest.fixture
    def channel(self) -> Channel:
        return self.make()

    def _render(self, channel: Channel, key: str = "7:send:42:once:1", at: timedelta = timedelta()) -> Any:
        return channel.render(
            sample_delivery(channel.name, self.template, key), RECIPIENT, RenderContext(NOW + at, "welcome")
        )

    def test_it_is_a_channel(self, channel: Channel) -> None:
        assert isinstance(channel, Channel)

    def test_it_serves_an_outbox_channel_with_that_channels_consent_purpose(self, channel: Channel) -> None:
        assert channel.name in CHANNEL_PURPOSE
        expected = CHANNEL_PURPOSE[channel.name]
        assert channel.purpose == (expected.value if expected is not None else None)
        assert channel.purpose is None or channel.purpose in {p.value for p in Purpose}

    def test_render_is_deterministic(self, channel: Channel) -> None:
        assert self._render(channel) == self._render(channel)

    def test_render_does_not_change_its_inputs(self, channel: Channel) -> None:
        delivery = sample_delivery(channel.name, self.template)
        before = copy.deepcopy(delivery)
        channel.render(delivery, RECIPIENT, RenderContext(NOW, "welcome"))
        assert delivery == before

    def test_render_does_no_network_io(self, channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
        def refuse(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("render opened a connection")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        rendered = self._render(channel)
        assert rendered.body

    def test_render_names_the_delivery_key(self, channel: Channel) -> None:
        key = "7:send:42:once:3"
        rendered = self._render(channel, key)
        assert rendered.key == key
        assert rendered.channel == channel.name
        assert key in rendered.headers.values() or key.encode() in rendered.body

    def test_different_deliveries_render_differently(self, channel: Channel) -> None:
        assert (
            self._render(channel, "7:send:42:once:1").body != self._render(channel, "7:send:42:once:2").body
        )

    def test_send_delivers_the_rendered_message(self, channel: Channel) -> None:
        channel.send(self._render(channel, "7:send:42:once:5"))
        channel.send(self._render(channel, "7:send:42:once:6"))
        assert self.delivered_keys() == ["7:send:42:once:5", "7:send:42:once:6"]

    def test_failures_raise_only_transient_or_permanent_errors(self) -> None:
        failing = self.make_failing()
        assert failing
        for channel in failing:
            with pytest.raises((TransientError, PermanentError)) as caught:
                channel.send(self._render(channel))
            assert str(caught.value)
