"""``kizuna serve`` as a real process: it answers, and a batch answered 200 survives ``kill -9``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from live_server import make_key
from sqlalchemy import func, select

from kizuna.store import Store
from kizuna.store.tables import Event


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def kizuna_serve(db_url: str, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _port()
    kizuna = Path(sys.executable).with_name("kizuna")
    command = [str(kizuna), "serve", "--db", db_url, "--port", str(port), *args]
    # The server's log goes to a file: a pipe nobody reads could fill and stall the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait(30)
                    log.seek(0)
                    pytest.fail(f"kizuna serve did not start: {log.read().decode(errors='replace')}")
                time.sleep(0.1)
            yield process, url
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(30)


def _stored(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(Event)) or 0)


def test_what_was_answered_200_survives_kill_9(store: Store, db_url: str) -> None:
    token = make_key(store, "write")
    with kizuna_serve(db_url) as (process, url), httpx.Client(base_url=url, auth=(token, "")) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "kizuna"
        for n in range(5):
            batch = [
                {"type": "track", "anonymousId": f"d{i}", "event": "X", "messageId": f"{n}-{i}"}
                for i in range(200)
            ]
            assert client.post("/v1/batch", json={"batch": batch}).json()["stored"] == 200
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    assert _stored(store) == 1_000


def test_several_workers(store: Store, db_url: str) -> None:
    token = make_key(store, "write")
    with (
        kizuna_serve(db_url, "--workers", "2") as (_process, url),
        httpx.Client(base_url=url, auth=(token, "")) as c,
    ):
        for n in range(10):
            answer = c.post("/v1/track", json={"anonymousId": "d", "event": "X", "messageId": f"w{n}"})
            assert answer.status_code == 200, answer.text
    assert _stored(store) == 10
