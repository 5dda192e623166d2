"""The webhook channel: each delivery POSTed as signed JSON to a URL, for LINE messaging, SMS or any service.

The body (UTF-8 JSON, keys sorted) holds the delivery key, the scenario (id and name), the step, the arm, the
customer's external id, the template and the payload the scenario engine wrote. Headers:

``X-Kizuna-Delivery``
    the delivery key: the same on every attempt, so the receiver dedupes on it (sending is at least once).
``X-Kizuna-Timestamp``
    Unix seconds of the attempt; part of the signed text, so an old request cannot be replayed later.
``X-Kizuna-Signature``
    ``sha256=<hex>``: HMAC-SHA256 under ``KIZUNA_WEBHOOK_SECRET`` of ``<timestamp>.<body>``.

Receivers check all three with :func:`verify_signature`. A 2xx answer is success; 5xx, 408, 429, timeouts
and connection errors are retried later; any other answer (4xx, a redirect) fails the delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from kizuna import __version__
from kizuna.channels.base import (
    OutboxDelivery,
    PermanentError,
    Recipient,
    RenderContext,
    Rendered,
    TransientError,
)
from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError

SIGNATURE_HEADER = "X-Kizuna-Signature"
DELIVERY_HEADER = "X-Kizuna-Delivery"
TIMESTAMP_HEADER = "X-Kizuna-Timestamp"
#: Answers that mean "try again later" although they are not 5xx.
RETRY_STATUSES = frozenset({408, 429})
MIN_SECRET_LENGTH = 16


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Kizuna-Signature`` value: ``sha256=`` and the HMAC-SHA256 of ``<timestamp>.<body>``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance: float = 300,
    now: float | None = None,
) -> bool:
    """Whether a webhook request is genuine: signed under ``secret`` and at most ``tolerance`` seconds old.

    ``body`` is the raw request body (bytes, before any JSON parsing); ``headers`` the request's headers
    (names in any case). ``now`` is Unix seconds (default: the clock). A request signed in the future by more
    than ``tolerance`` is refused too. Dedupe accepted requests on ``X-Kizuna-Delivery``.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    signature = lowered.get(SIGNATURE_HEADER.lower())
    stamp = lowered.get(TIMESTAMP_HEADER.lower())
    if signature is None or stamp is None or not stamp.isdigit():
        return False
    timestamp = int(stamp)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel:
    """POSTs deliveries of channel ``webhook`` as signed JSON; see the module docstring.

    ``url`` is the default receiver, ``urls`` per-template ones (a template not named goes to ``url``).
    Needs no consent purpose: the receiver is the operator's own system, which answers for consent to the
    services it forwards to.
    """

    name = "webhook"
    purpose: str | None = None

    def __init__(
        self,
        *,
        url: str | None,
        secret: str,
        urls: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url and not urls:
            raise ConfigError(
                "the webhook channel has no URL: set KIZUNA_WEBHOOK_URL (or KIZUNA_WEBHOOK_URLS per template)"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"KIZUNA_WEBHOOK_SECRET must be at least {MIN_SECRET_LENGTH} characters "
                "(a random string shared with the receiver)"
            )
        self.url = url
        self.urls = dict(urls or {})
        self._secret = secret
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": f"kizuna/{__version__}"},
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> WebhookChannel:
        """The channel as ``KIZUNA_WEBHOOK_*`` configure it; ConfigError when they do not."""
        settings = settings or get_settings()
        if settings.webhook_secret is None:
            raise ConfigError("the webhook channel signs every request: set KIZUNA_WEBHOOK_SECRET")
        return cls(
            url=settings.webhook_url,
            urls=settings.webhook_urls,
            secret=settings.webhook_secret.get_secret_value(),
            timeout=settings.webhook_timeout_seconds,
        )

    def target(self, template: str | None) -> str:
        """The URL a delivery of ``template`` goes to; PermanentError when none is configured."""
        url = self.urls.get(template or "") or self.url
        if url is None:
            raise PermanentError(
                f"no webhook URL for template {template!r}: add it to KIZUNA_WEBHOOK_URLS or set "
                "KIZUNA_WEBHOOK_URL"
            )
        return url

    def render(self, delivery: OutboxDelivery, recipient: Recipient, context: RenderContext) -> Rendered:
        """The signed request: JSON body and headers, timestamped ``context.now``."""
        document: dict[str, Any] = {
            "key": delivery.key,
            "scenario": {"id": delivery.scenario_id, "name": context.scenario},
            "step": delivery.step,
            "arm": delivery.arm,
            "customer": {"external_id": recipient.external_id},
            "template": delivery.template,
            "payload": dict(delivery.payload),
        }
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        timestamp = int(context.now.timestamp())
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: delivery.key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        return Rendered(
            key=delivery.key,
            channel=self.name,
            target=self.target(delivery.template),
            body=body,
            media_type="application/json",
            headers=headers,
        )

    def send(self, rendered: Rendered) -> None:
        """POST it; 2xx is success, 5xx/408/429/timeouts/connection errors transient, the rest permanent."""
        try:
            response = self._client.post(
                rendered.target, content=rendered.body, headers=dict(rendered.headers)
            )
        except httpx.TimeoutException as exc:
            raise TransientError(f"webhook {rendered.target}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"webhook {rendered.target}: {type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise PermanentError(f"webhook {rendered.target}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        message = f"webhook {rendered.target}: HTTP {status} {response.text[:200]}".rstrip()
        if status >= 500 or status in RETRY_STATUSES:
            raise TransientError(message)
        raise PermanentError(message)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
