"""Signed link tokens: a delivery key in a URL, signed so that a link can be neither forged nor repurposed.

A token is ``<key>.<mac>`` (both URL-safe base64), where the MAC is HMAC-SHA256 (cut to 16 bytes) of
``<purpose>:<key>`` under a secret. The purpose (``unsubscribe``, ``open``, ``click``, ``scan``) is part of
the signed text, so an open-pixel token cannot be replayed as an unsubscribe link. A click token also signs
the target URL (``click:<len(key)>:<key><url>``): the redirect goes only where the message said it would,
never to a URL an attacker appends. Unsubscribe tokens are those the email channel has always written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from enum import StrEnum

from kizuna.errors import KizunaError


class LinkPurpose(StrEnum):
    """What a signed link does when followed."""

    UNSUBSCRIBE = "unsubscribe"
    OPEN = "open"
    CLICK = "click"
    SCAN = "scan"


class LinkTokenError(KizunaError):
    """A link token that is malformed, not signed under this secret, or signed for another purpose or URL."""


#: The name the email channel has always raised; unsubscribe links are link tokens like the others.
UnsubscribeTokenError = LinkTokenError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signed_text(purpose: LinkPurpose, key: bytes, url: str | None) -> bytes:
    if url is None:
        return purpose.value.encode() + b":" + key
    # The key's length keeps key and URL apart, whatever characters either holds.
    return f"{purpose.value}:{len(key)}:".encode() + key + url.encode()


def _mac(secret: str, purpose: LinkPurpose, key: bytes, url: str | None) -> bytes:
    return hmac.new(secret.encode(), _signed_text(purpose, key, url), hashlib.sha256).digest()[:16]


def link_token(key: str, secret: str, purpose: LinkPurpose | str, *, url: str | None = None) -> str:
    """A URL-safe token naming delivery ``key`` for ``purpose`` (and, for clicks, ``url``), signed under
    ``secret``."""
    raw = key.encode()
    return f"{_b64(raw)}.{_b64(_mac(secret, LinkPurpose(purpose), raw, url))}"


def read_link_token(token: str, secret: str, purpose: LinkPurpose | str, *, url: str | None = None) -> str:
    """The delivery key in ``token``; LinkTokenError when it is malformed, or was not signed under ``secret``
    for this ``purpose`` (and ``url``)."""
    purpose = LinkPurpose(purpose)
    body, dot, mac = token.partition(".")
    try:
        raw, signature = _unb64(body), _unb64(mac)
        key = raw.decode()
    except (binascii.Error, ValueError) as exc:
        raise LinkTokenError(f"the {purpose.value} link is malformed") from exc
    if not dot or not hmac.compare_digest(_mac(secret, purpose, raw, url), signature):
        raise LinkTokenError(f"the {purpose.value} link is not genuine")
    return key


def unsubscribe_token(key: str, secret: str) -> str:
    """A token for the one-click unsubscribe link of delivery ``key``."""
    return link_token(key, secret, LinkPurpose.UNSUBSCRIBE)


def read_unsubscribe_token(token: str, secret: str) -> str:
    """The delivery key in an unsubscribe ``token``; LinkTokenError when it is not genuine."""
    return read_link_token(token, secret, LinkPurpose.UNSUBSCRIBE)
