"""A device's anonymous events and a concurrent identify of it take turns (PostgreSQL, several writers)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kizuna.ingest.tracking import ingest_batch, parse_batch
from kizuna.store import Store
from kizuna.store.tables import Customer, Event

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_events_written_while_the_device_is_identified_land_on_the_customer(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two batches cannot overlap")
    viewed = {"type": "track", "anonymousId": "dev-7", "event": "Newsletter Opened", "messageId": "v1"}
    identified = {"type": "identify", "userId": "u-7", "anonymousId": "dev-7", "messageId": "i1"}
    finished = threading.Event()
    with store.session() as first, first.begin():
        ingest_batch(first, parse_batch({"batch": [viewed]}), NOW)  # written as anonymous, not committed

        def second() -> None:
            with store.session() as other, other.begin():
                ingest_batch(other, parse_batch({"batch": [identified]}), NOW)
            finished.set()

        worker = threading.Thread(target=second)
        worker.start()
        # The identify waits for the first batch, whose anonymous event it must re-point once committed.
        assert not finished.wait(1.0)
    worker.join(10)
    assert finished.is_set()
    with store.session() as s:
        customer = s.scalars(select(Customer.id).where(Customer.external_id == "u-7")).one()
        assert s.scalars(select(Event.customer_id).where(Event.message_id == "v1")).one() == customer
