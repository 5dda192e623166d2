"""The group-commit writer: batches written together, a bad batch failing alone, database errors retried."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kizuna.ingest import queue as ingest_queue
from kizuna.ingest.queue import IngestQueue
from kizuna.ingest.tracking import Incoming, IngestResult, parse_batch
from kizuna.store import Store
from kizuna.store.tables import Event

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _batch(tag: str, n: int = 2) -> Incoming:
    messages = [
        {"type": "track", "anonymousId": tag, "event": "X", "messageId": f"{tag}-{i}"} for i in range(n)
    ]
    return Incoming.of(parse_batch({"batch": messages}), NOW)


def _stored(store: Store) -> set[str]:
    with store.session() as s:
        return set(s.scalars(select(Event.anonymous_id).group_by(Event.anonymous_id)))


class Gate:
    """Holds the writer at its first write until opened, so that the next batches queue up as one group."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        self.entered.set()
        self.open.wait(10)
        yield


def test_concurrent_batches_are_written_together_and_a_bad_one_fails_alone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups: list[int] = []
    real = ingest_queue.ingest_batches

    def ingest(session: Session, incoming: Sequence[Incoming]) -> list[IngestResult]:
        groups.append(len(incoming))
        if any(b.messages[0].anonymous_id == "bad" for b in incoming):
            raise ValueError("this batch cannot be stored")
        return real(session, incoming)

    monkeypatch.setattr(ingest_queue, "ingest_batches", ingest)
    gate = Gate()
    writer = IngestQueue(store, lock=gate, writers=1)
    first = writer.submit(_batch("a"))
    assert gate.entered.wait(10)
    later = [writer.submit(_batch(tag)) for tag in ("b", "bad", "c")]
    unparsable = writer.submit(lambda: Incoming.of(parse_batch(b"{"), NOW))
    gate.open.set()
    assert first.result(10).stored == 2
    assert [f.result(10).stored for f in (later[0], later[2])] == [2, 2]
    with pytest.raises(ValueError, match="cannot be stored"):
        later[1].result(10)
    with pytest.raises(ValueError, match="Invalid JSON"):
        unparsable.result(10)
    writer.close()
    assert groups == [1, 3, 1, 1, 1]  # alone, then together, then one by one after the failure
    assert _stored(store) == {"a", "b", "c"}


def test_database_errors_are_retried(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ingest_queue.ingest_batches
    failures = iter([True, True])

    def flaky(session: Session, incoming: Sequence[Incoming]) -> list[IngestResult]:
        if next(failures, False):
            raise OperationalError("INSERT ...", {}, Exception("deadlock detected"))
        return real(session, incoming)

    monkeypatch.setattr(ingest_queue, "ingest_batches", flaky)
    writer = IngestQueue(store, writers=2)
    assert writer.submit(_batch("retried")).result(10).stored == 2
    writer.close()
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 2


def test_close_writes_what_is_queued(store: Store) -> None:
    writer = IngestQueue(store)
    futures: list[Any] = [writer.submit(_batch(f"d{i}", 5)) for i in range(20)]
    writer.close()
    assert all(f.done() for f in futures) and len(_stored(store)) == 20
