"""API keys: write keys (public, ingest only, one per source) and secret keys (server side, with scopes).

A token looks like ``kzw_<prefix>_<secret>`` (write) or ``kzs_<prefix>_<secret>`` (secret) and is shown once,
when it is created. The store keeps only the prefix, to find the key, and the SHA-256 of the whole token.
The secret part is 32 random bytes, so a plain hash suffices: a slow password KDF guards low-entropy secrets
against guessing, and nobody can enumerate 2**256 candidates whatever the hash costs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.errors import AuthenticationError, ConfigError, NotFoundError, PermissionDeniedError
from kizuna.store.access import ApiKey
from kizuna.store.types import utcnow


class KeyKind(StrEnum):
    """What a key is for."""

    WRITE = "write"
    SECRET = "secret"  # noqa: S105 (the kind's name, not a password)


#: Scopes a secret key can carry; ``admin`` includes every other.
SCOPES: dict[str, str] = {
    "profiles:read": "read customer 360s and search customers",
    "events:read": "list events",
    "privacy": "export and delete customers' data",
    "audiences:read": "read cookie-based ad audiences (anonymous ids of visitors who allow ads)",
    "admin": "everything above",
}

_TAGS = {KeyKind.WRITE: "kzw", KeyKind.SECRET: "kzs"}
#: How stale ``last_used_at`` may get before a request refreshes it: one write a minute per key, at most.
_TOUCH_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(
    session: Session,
    *,
    kind: KeyKind | str,
    name: str,
    source: str | None = None,
    scopes: Iterable[str] = (),
) -> tuple[ApiKey, str]:
    """Create a key; returns the stored row and the token, which is never shown again.

    Write keys take a ``source`` (the site or app that sends with them) and no scopes; secret keys need at
    least one scope from :data:`SCOPES`.
    """
    try:
        chosen = KeyKind(kind)
    except ValueError:
        raise ConfigError(f"unknown key kind {kind!r}: use write or secret") from None
    wanted = list(dict.fromkeys(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise ConfigError(f"unknown scope(s) {', '.join(unknown)}: use {', '.join(SCOPES)}")
    if chosen is KeyKind.WRITE and wanted:
        raise ConfigError("write keys only send events and take no scopes: create a secret key for reading")
    if chosen is KeyKind.SECRET and not wanted:
        raise ConfigError(f"give a secret key at least one scope: {', '.join(SCOPES)}")
    if not name.strip():
        raise ConfigError("give the key a name that says who uses it")
    prefix = f"{_TAGS[chosen]}_{secrets.token_hex(8)}"
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        prefix=prefix,
        key_hash=_digest(token),
        kind=chosen.value,
        name=name.strip(),
        source=source,
        scopes=wanted,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    return key, token


def _prefix_of(token: str) -> str | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] not in _TAGS.values() or not parts[1] or not parts[2]:
        return None
    return f"{parts[0]}_{parts[1]}"


def verify_key(
    session: Session,
    token: str,
    *,
    kind: KeyKind | str | None = None,
    scope: str | None = None,
    now: datetime | None = None,
) -> ApiKey:
    """The key behind ``token``, checked; raises AuthenticationError (unknown, malformed, revoked) or
    PermissionDeniedError (another kind than ``kind``, or without ``scope``).

    Refreshes ``last_used_at`` at most once a minute; the caller commits.
    """
    prefix = _prefix_of(token.strip())
    if prefix is None:
        raise AuthenticationError("malformed API key: expected kzw_... (write key) or kzs_... (secret key)")
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    # Compare even when the prefix is unknown, so timing does not tell a known prefix from an unknown one.
    expected = key.key_hash if key is not None else "0" * 64
    if not hmac.compare_digest(expected, _digest(token.strip())) or key is None:
        raise AuthenticationError("unknown API key: check it, or create one with `kizuna keys create`")
    if key.revoked_at is not None:
        raise AuthenticationError(
            f"API key {key.prefix} was revoked: create a new one with `kizuna keys create`"
        )
    if kind is not None and key.kind != KeyKind(kind).value:
        wanted = KeyKind(kind)
        use = "a write key (kzw_...)" if wanted is KeyKind.WRITE else "a secret key (kzs_...)"
        raise PermissionDeniedError(f"this needs {use}; key {key.prefix} is a {key.kind} key")
    if scope is not None and scope not in key.scopes and "admin" not in key.scopes:
        raise PermissionDeniedError(
            f"key {key.prefix} lacks the {scope!r} scope: create a secret key with --scope {scope}"
        )
    moment = now or utcnow()
    if key.last_used_at is None or moment - key.last_used_at >= _TOUCH_EVERY:
        key.last_used_at = moment
    return key


def list_keys(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    """Every key, oldest first; revoked ones only when asked for."""
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_key(session: Session, prefix: str) -> ApiKey:
    """Revoke the key with this prefix (``kzw_...``/``kzs_...`` as ``kizuna keys list`` shows it).

    A whole token is accepted too. Revoking twice keeps the first revocation time.
    """
    wanted = _prefix_of(prefix) or prefix
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == wanted)).first()
    if key is None:
        raise NotFoundError(f"no API key {prefix!r}: `kizuna keys list` shows the keys and their prefixes")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    session.flush()
    return key
