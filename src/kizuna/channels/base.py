"""The channel interface: what every channel (webhook, paper DM, email, ad audiences, web slots) implements.

The contract
------------
A channel turns one outbox row into what goes out, and sends it. The dispatcher
(:mod:`kizuna.channels.dispatch`) does everything else, the same way for every channel: it claims due rows,
checks consent for :attr:`Channel.purpose` and erasure just before sending, records the outcome, and retries.
So a channel:

- has a :attr:`~Channel.name` equal to the outbox's ``deliveries.channel`` value it serves (``webhook``,
  ``direct_mail``, ``email``, ``ads``, ``web``), and a :attr:`~Channel.purpose`: the consent purpose
  (:class:`kizuna.privacy.consent.Purpose` value) it needs, or ``None`` for the operator's own systems.
  The dispatcher checks it; a channel never sends to a customer without it.
- :meth:`~Channel.render` is **pure**: from the delivery, the recipient and the context it builds a
  :class:`Rendered` and does no I/O beyond reading (files of templates, say). The same inputs give the same
  bytes, so a retry sends what the first attempt would have (times come from ``context.now``, never from the
  clock). ``Rendered.key`` is the delivery's key: receivers dedupe on it. A delivery that can never be
  rendered (no template, no address) raises :class:`PermanentError`.
- :meth:`~Channel.send` hands the rendered message to the outside world and returns ``None`` once it was
  accepted. Failures raise only :class:`TransientError` (try again later: a timeout, a 5xx, a full queue) or
  :class:`PermanentError` (record and stop: rejected, no such address). Anything else is a bug, which the
  dispatcher records as a transient failure so that it is bounded by the attempt limit.
- Sending is **at least once**: a dispatcher that stops between the send and the record sends again after the
  lease (``KIZUNA_DELIVERY_LEASE_SECONDS``), so a channel passes the key on (a header, an idempotency key, a
  file name) wherever the far side can dedupe on it.
- A channel may also have ``batch()``, a context manager the dispatcher sends each batch within, so that a
  channel can keep a connection open between the sends of a batch (email does) and close it at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from kizuna.errors import KizunaError


class ChannelError(KizunaError):
    """A delivery could not be rendered or sent; the message, stored as the delivery's error, says why."""


class TransientError(ChannelError):
    """A failure that may pass (timeout, connection refused, 5xx, rate limit): the delivery is tried again."""


class PermanentError(ChannelError):
    """A failure that will not pass (rejected, malformed, unknown address): the delivery is marked failed."""


@dataclass(frozen=True)
class OutboxDelivery:
    """One row of the outbox (``deliveries``) as a channel sees it.

    ``attempts`` counts this attempt (1 on the first). ``payload`` is what the scenario engine wrote: the
    template, the audience or slot, the coupon and the recommended items.
    """

    id: int
    key: str
    channel: str
    customer_id: int
    scenario_id: int | None
    run_id: int | None
    step: str | None
    template: str | None
    arm: str | None
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class Recipient:
    """The customer a delivery is for: what channels may address them by.

    Channels take only the fields they need (a webhook the external id, the DM channel the address).
    """

    id: int
    external_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_code: str | None = None
    country: str | None = None
    prefecture: str | None = None
    city: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    timezone: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderContext:
    """What a render may depend on besides the delivery and the recipient.

    ``now`` is the dispatcher's time for this attempt; ``scenario`` the name of the scenario that wrote the
    delivery (``None`` for deliveries written by hand or of a deleted scenario).
    """

    now: datetime
    scenario: str | None = None


@dataclass(frozen=True)
class Rendered:
    """What would go out: the message's bytes, where to and with which headers.

    ``target`` is channel-specific: a URL, an email address, an audience name, a print batch. ``headers``
    carries metadata a transport needs (HTTP headers, email headers).
    """

    key: str
    channel: str
    target: str
    body: bytes
    media_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Channel(Protocol):
    """A way of reaching customers; see the module docstring for the contract."""

    @property
    def name(self) -> str:
        """The outbox channel this serves (``deliveries.channel``)."""
        ...

    @property
    def purpose(self) -> str | None:
        """The consent purpose the dispatcher checks before sending, or ``None`` (the operator's systems)."""
        ...

    def render(self, delivery: OutboxDelivery, recipient: Recipient, context: RenderContext) -> Rendered:
        """What would go out for ``delivery``; pure and deterministic. Raises :class:`PermanentError`."""
        ...

    def send(self, rendered: Rendered) -> None:
        """Send ``rendered``; raises only :class:`TransientError` or :class:`PermanentError` on failure."""
        ...
