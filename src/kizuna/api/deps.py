"""What routes depend on, as ``Annotated`` aliases: the store, a session, the settings, and the API keys.

Write keys arrive as Segment's libraries send them — HTTP Basic with the key as user name and an empty
password — or, from browsers (analytics.js, ``/kizuna.js``), as a ``writeKey`` field in the JSON body. Secret
keys arrive as ``Authorization: Bearer kzs_...``.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from kizuna.config import Settings
from kizuna.errors import AuthenticationError
from kizuna.ingest.queue import IngestQueue
from kizuna.security.keys import KeyKind, verify_key
from kizuna.store.engine import Store


class PayloadTooLarge(Exception):
    """A request body over ``Settings.api_max_batch_bytes``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than {limit:,} bytes: send fewer messages per batch")
        self.limit = limit


class MalformedJSON(Exception):
    """A body that is not JSON (or not a JSON object)."""


async def get_store(request: Request) -> Store:
    """The store the app was created with."""
    store: Store = request.app.state.store
    return store


async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_ingest(request: Request) -> IngestQueue:
    """The app's tracking writer."""
    ingest: IngestQueue = request.app.state.ingest
    return ingest


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
IngestDep = Annotated[IngestQueue, Depends(get_ingest)]


def get_session(store: StoreDep) -> Iterator[Session]:
    """A session for one request, closed afterwards; routes that write commit it themselves."""
    with store.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def writing(store: Store) -> AbstractContextManager[Any]:
    """Hold while writing. SQLite has one writer at a time: threads waiting here queue in order, where
    SQLite's own busy handler would make them sleep and retry, adding up to 100 ms of latency each time.
    PostgreSQL takes concurrent writers as they are."""
    if store.dialect != "sqlite":
        return nullcontext()
    with _locks_guard:
        return _locks.setdefault(store.url, threading.Lock())


@dataclass(frozen=True)
class KeyInfo:
    """The key a request came with."""

    id: int
    prefix: str
    kind: str
    name: str
    source: str | None
    scopes: tuple[str, ...]


def check_key(store: Store, token: str, *, kind: KeyKind, scope: str | None = None) -> KeyInfo:
    """Verify ``token`` (raising 401/403 errors) and return what routes need to know of it."""
    with store.session() as session:
        key = verify_key(session, token, kind=kind, scope=scope)
        info = KeyInfo(key.id, key.prefix, key.kind, key.name, key.source, tuple(key.scopes))
        if session.dirty:
            with writing(store):
                session.commit()
    return info


class WriteKeyCache:
    """Write keys verified in the last ``seconds``, trusted without asking the store again.

    Every tracking request carries a write key; checking it against the store each time would cost as much
    as storing a small batch. A revoked write key therefore stops working within ``seconds`` (setting
    ``api_key_cache_seconds``); secret keys are checked on every request.
    """

    def __init__(self, seconds: float, *, size: int = 1_000) -> None:
        self.seconds = seconds
        self.size = size
        self._known: dict[str, tuple[KeyInfo, float]] = {}

    def get(self, token: str) -> KeyInfo | None:
        """The key behind ``token`` if it was verified recently enough."""
        found = self._known.get(token)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, token: str, info: KeyInfo) -> None:
        """Remember a verified key."""
        if self.seconds <= 0:
            return
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[token] = (info, time.monotonic() + self.seconds)


async def get_key_cache(request: Request) -> WriteKeyCache:
    """The app's cache of verified write keys."""
    cache: WriteKeyCache = request.app.state.write_keys
    return cache


async def raw_body(request: Request, settings: SettingsDep) -> bytes:
    """The request body, refused (413) once it passes the configured size, before it is all read."""
    limit = settings.api_max_batch_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


BodyDep = Annotated[bytes, Depends(raw_body)]


@dataclass(frozen=True)
class Tracking:
    """An authenticated tracking request: its key, raw body, and the body decoded when the key was in it."""

    key: KeyInfo
    body: bytes
    decoded: dict[str, Any] | None


def basic_user(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, _password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationError(
            "malformed Basic credentials: send the write key as the user name"
        ) from None
    return user


def key_in_body(body: bytes) -> tuple[str | None, dict[str, Any]]:
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJSON(f"the body is not valid JSON ({exc})") from None
    if not isinstance(decoded, dict):
        raise MalformedJSON("the body must be a JSON object")
    key = decoded.get("writeKey")
    batch = decoded.get("batch")
    if key is None and isinstance(batch, list) and batch and isinstance(batch[0], dict):
        key = batch[0].get("writeKey")
    return (key if isinstance(key, str) else None), decoded


async def write_key(
    request: Request, store: StoreDep, body: BodyDep, cache: Annotated[WriteKeyCache, Depends(get_key_cache)]
) -> Tracking:
    """A write key from HTTP Basic (as Segment's libraries send it) or the body's ``writeKey`` (browsers)."""
    header = request.headers.get("authorization")
    token = basic_user(header) if header else None
    decoded = None
    if token is None:
        token, decoded = key_in_body(body)
    if not token:
        raise AuthenticationError(
            "no write key: send it as the HTTP Basic user name with an empty password, or as writeKey"
        )
    info = cache.get(token)
    if info is None:
        info = await run_in_threadpool(check_key, store, token, kind=KeyKind.WRITE)
        cache.put(token, info)
    return Tracking(info, body, decoded)


WriteKeyDep = Annotated[Tracking, Depends(write_key)]


def secret_key(scope: str) -> Callable[[Request, Store], KeyInfo]:
    """A dependency that admits a secret key (``Authorization: Bearer kzs_...``) holding ``scope``."""

    def dependency(request: Request, store: StoreDep) -> KeyInfo:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                "no secret key: send Authorization: Bearer kzs_... (create one with `kizuna keys create`)"
            )
        return check_key(store, token.strip(), kind=KeyKind.SECRET, scope=scope)

    return dependency


ProfilesKey = Annotated[KeyInfo, Depends(secret_key("profiles:read"))]
EventsKey = Annotated[KeyInfo, Depends(secret_key("events:read"))]
PrivacyKey = Annotated[KeyInfo, Depends(secret_key("privacy"))]
AudiencesKey = Annotated[KeyInfo, Depends(secret_key("audiences:read"))]
