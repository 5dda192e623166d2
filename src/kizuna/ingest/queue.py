"""The tracking API's writer: one thread writes the batches of concurrent requests together (group commit).

Each request's batch waits here until it is committed, so a 200 still means "stored". While one group is
being written, the batches that arrive queue up and go into the next group: at low traffic a group is one
batch and nothing waits for company; under load the look-ups, the inserts and above all the commit are shared,
which is what lets one process keep up with thousands of events a second. A batch stays all or nothing: if a
group fails, its batches are written again one by one, and only the batch at fault fails.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

from kizuna.ingest.tracking import Incoming, IngestResult, ingest_batches
from kizuna.store.engine import Store

#: Tries of a batch that fails on a database error.
_ATTEMPTS = 3


@dataclass
class _Job:
    source: Incoming | Callable[[], Incoming]
    future: Future[IngestResult] = field(default_factory=Future)
    incoming: Incoming | None = None

    def prepare(self) -> bool:
        """Parse the batch if it came unparsed; a batch that does not parse fails alone, here."""
        if self.incoming is not None:
            return True
        if isinstance(self.source, Incoming):
            self.incoming = self.source
            return True
        try:
            self.incoming = self.source()
        except Exception as exc:
            self.future.set_exception(exc)
            return False
        return True

    @property
    def size(self) -> int:
        return len(self.incoming.messages) if self.incoming is not None else 0


class IngestQueue:
    """Batches in, committed results out, through ``writers`` writer threads (default: one on SQLite, which
    writes one transaction at a time, four on PostgreSQL, whose round trips then overlap).

    ``lock`` is held while writing (SQLite: the process's one-writer lock shared with other writes);
    a group takes batches until it holds ``max_messages`` messages.
    """

    def __init__(
        self,
        store: Store,
        *,
        lock: Callable[[], AbstractContextManager[Any]] = nullcontext,
        max_messages: int = 5_000,
        writers: int | None = None,
    ) -> None:
        self.store = store
        self.lock = lock
        self.max_messages = max_messages
        self.writers = writers or (1 if store.dialect == "sqlite" else 4)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._guard = threading.Lock()

    def submit(self, incoming: Incoming | Callable[[], Incoming]) -> Future[IngestResult]:
        """Queue a batch; the future holds its result once committed, or the error that stopped it.

        A batch may come as a function that parses it: the writer thread then parses it too. Parsing on the
        thread that answers requests would compete with the writer for the interpreter at every database
        call it makes, and the writer is what sets the pace.
        """
        with self._guard:
            if not self._threads:
                for n in range(self.writers):
                    thread = threading.Thread(target=self._run, name=f"kizuna-ingest-{n}", daemon=True)
                    thread.start()
                    self._threads.append(thread)
        job = _Job(incoming)
        self._jobs.put(job)
        return job.future

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the writer threads."""
        with self._guard:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            group = [job] if job.prepare() else []
            size = job.size
            stop = False
            while size < self.max_messages:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                if more.prepare():
                    group.append(more)
                    size += more.size
            if group:
                self._write(group)
            if stop:
                return

    def _write(self, group: list[_Job], attempt: int = 1) -> None:
        # A group that fails is written again batch by batch, each in its own transaction, so that only the
        # batch at fault fails. On PostgreSQL concurrent writers may also collide (two creating one new
        # customer, a deadlock): such a database error is retried, which is safe since nothing of a failed
        # transaction remains and message ids make a second write of the same batch a no-op.
        try:
            with self.lock(), self.store.session() as session, session.begin():
                results = ingest_batches(session, [job.incoming for job in group if job.incoming is not None])
        except Exception as exc:
            if len(group) > 1:
                for job in group:
                    self._write([job])
            elif isinstance(exc, DBAPIError) and attempt < _ATTEMPTS:
                time.sleep(0.01 * attempt)
                self._write(group, attempt + 1)
            else:
                group[0].future.set_exception(exc)
            return
        for job, result in zip(group, results, strict=True):
            job.future.set_result(result)
