"""Fixtures: a real uvicorn server on a free loopback port, serving the test store."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from live_server import Api, LiveServer, make_key

from kizuna.api import create_app
from kizuna.config import Settings
from kizuna.store import Store


@pytest.fixture
def serve(store: Store) -> Iterator[Callable[..., Api]]:
    """Start a server for the test store; keyword arguments are settings (``api_max_batch_bytes=...``)."""
    servers: list[LiveServer] = []

    def start(**settings: object) -> Api:
        app = create_app(store, settings=Settings(**settings))  # type: ignore[arg-type]
        server = LiveServer(app).start()
        servers.append(server)
        return Api(server.url, store, make_key(store, "write"), make_key(store, "secret", "admin"))

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def api(serve: Callable[..., Api]) -> Api:
    """A server with default settings."""
    return serve()
