"""The channels kizuna can send through, by outbox channel name, built from the settings."""

from __future__ import annotations

from collections.abc import Callable

from kizuna.channels.base import Channel
from kizuna.channels.dm.channel import DirectMailChannel
from kizuna.channels.email import EmailChannel
from kizuna.channels.webhook import WebhookChannel
from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError

#: Builders of the channels that can send, by ``deliveries.channel`` name.
CHANNELS: dict[str, Callable[[Settings], Channel]] = {
    "direct_mail": DirectMailChannel.from_settings,
    "email": EmailChannel.from_settings,
    "webhook": WebhookChannel.from_settings,
}


def make_channel(name: str, settings: Settings | None = None) -> Channel:
    """The channel ``name``, configured from ``settings``; ConfigError for a channel that cannot send yet."""
    builder = CHANNELS.get(name)
    if builder is None:
        raise ConfigError(f"no channel {name!r} can send yet: use one of {', '.join(sorted(CHANNELS))}")
    return builder(settings or get_settings())


def configured_channels(settings: Settings | None = None) -> tuple[list[Channel], list[str]]:
    """The channels whose settings are complete, and for each other one what it lacks.

    Raises:
        ConfigError: no channel can send, naming what each lacks.
    """
    ready: list[Channel] = []
    skipped: list[str] = []
    for name in sorted(CHANNELS):
        try:
            ready.append(make_channel(name, settings))
        except ConfigError as exc:
            skipped.append(str(exc))
    if not ready:
        raise ConfigError("no channel can send; " + "; ".join(skipped))
    return ready, skipped
