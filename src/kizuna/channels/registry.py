"""The channels kizuna can send through, by outbox channel name, built from the settings."""

from __future__ import annotations

from collections.abc import Callable

from kizuna.channels.base import Channel
from kizuna.channels.email import EmailChannel
from kizuna.channels.webhook import WebhookChannel
from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError

#: Builders of the channels that can send, by ``deliveries.channel`` name.
CHANNELS: dict[str, Callable[[Settings], Channel]] = {
    "email": EmailChannel.from_settings,
    "webhook": WebhookChannel.from_settings,
}


def make_channel(name: str, settings: Settings | None = None) -> Channel:
    """The channel ``name``, configured from ``settings``; ConfigError for a channel that cannot send yet."""
    builder = CHANNELS.get(name)
    if builder is None:
        raise ConfigError(f"no channel {name!r} can send yet: use one of {', '.join(sorted(CHANNELS))}")
    return builder(settings or get_settings())
