"""A real uvicorn server on a free loopback port, and keys to talk to it with (see conftest.py)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from kizuna.security.keys import create_key
from kizuna.store import Store


class LiveServer:
    """uvicorn serving an app in a thread, over real HTTP (HTTPS when given a certificate and key file)."""

    def __init__(self, app: object, *, tls: tuple[Path, Path] | None = None) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._socket.getsockname()[1]}"
        certfile, keyfile = tls or (None, None)
        config = uvicorn.Config(
            app,  # type: ignore[arg-type]
            log_level="warning",
            lifespan="on",
            ws="none",
            access_log=False,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


@dataclass
class Api:
    """A running server and the keys for it."""

    url: str
    store: Store
    write_key: str
    secret_key: str

    def tracker(self) -> httpx.Client:
        """A client that sends with the write key as Segment's libraries do (HTTP Basic, empty password)."""
        return httpx.Client(base_url=self.url, auth=(self.write_key, ""), timeout=30)

    def reader(self, token: str | None = None) -> httpx.Client:
        """A client with a secret key (all scopes unless another token is given) as a Bearer token."""
        headers = {"Authorization": f"Bearer {token or self.secret_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def make_key(store: Store, kind: str, *scopes: str) -> str:
    """Create a key in the store and return its token."""
    with store.session() as session, session.begin():
        _, token = create_key(session, kind=kind, name=f"test {kind}", source="tests", scopes=scopes)
    return token
