"""ingest_batch as a library call: dedup, skew, identity order, consent, atomicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from kizuna.ingest import tracking
from kizuna.ingest.event_insert import insert_events
from kizuna.ingest.tracking import ingest_batch, parse_batch
from kizuna.store import Store
from kizuna.store.tables import Customer, Event, Product

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _ingest(store: Store, body: dict[str, Any], at: datetime = NOW) -> tracking.IngestResult:
    with store.session() as s, s.begin():
        return ingest_batch(s, parse_batch(body), at)


def _counts(store: Store) -> tuple[int, ...]:
    with store.session() as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(m)) or 0) for m in (Event, Customer, Product)
        )


def test_events_before_an_identify_in_the_same_batch_land_on_the_customer(store: Store) -> None:
    body = {
        "batch": [
            {"type": "page", "anonymousId": "dev", "messageId": "a"},
            {"type": "identify", "userId": "u", "anonymousId": "dev", "messageId": "b"},
            {"type": "track", "anonymousId": "dev", "event": "X", "messageId": "c"},
        ]
    }
    assert _ingest(store, body).stored == 3
    with store.session() as s:
        owners = set(s.scalars(select(Event.customer_id)))
        assert owners == {s.scalar(select(Customer.id).where(Customer.external_id == "u"))}


def test_batch_context_and_sent_at_apply_to_every_message(store: Store) -> None:
    body = {
        "sentAt": "2026-03-01T12:00:30Z",
        "context": {"library": {"name": "analytics-python"}, "ip": "192.0.2.1"},
        "batch": [
            {"type": "track", "userId": "u", "event": "A", "messageId": "a",
             "timestamp": "2026-03-01T12:00:00Z"},
            {"type": "track", "userId": "u", "event": "B", "messageId": "b",
             "timestamp": "2026-03-01T12:00:00Z", "sentAt": "2026-03-01T12:00:10Z",
             "context": {"ip": "192.0.2.9"}},
        ],
    }  # fmt: skip
    _ingest(store, body)
    with store.session() as s:
        found = {e.name: e for e in s.scalars(select(Event))}
    assert found["A"].occurred_at == NOW - timedelta(seconds=30)
    assert found["B"].occurred_at == NOW - timedelta(seconds=10)
    assert found["A"].context == {"library": {"name": "analytics-python"}, "ip": "192.0.2.1"}
    assert (
        found["B"].context["ip"] == "192.0.2.9"
        and found["B"].context["library"]["name"] == "analytics-python"
    )


def test_messages_without_a_message_id(store: Store) -> None:
    timed = {"type": "track", "anonymousId": "d", "event": "X", "timestamp": "2026-03-01T11:00:00Z"}
    untimed = {"type": "track", "anonymousId": "d", "event": "X"}
    assert _ingest(store, {"batch": [timed, untimed]}).stored == 2
    again = _ingest(store, {"batch": [timed, untimed]})
    # A resent timed message is recognised by its content; an untimed one cannot be told from a new one.
    assert (again.duplicates, again.stored) == (1, 1)


def test_a_failure_leaves_nothing_behind(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(tracking, "insert_events", broken)
    body = {
        "batch": [
            {
                "type": "identify",
                "userId": "u",
                "anonymousId": "dev",
                "messageId": "a",
                "traits": {"email": "u@x.jp"},
            },
            {
                "type": "track",
                "userId": "u",
                "event": "Product Viewed",
                "properties": {"sku": "S"},
                "messageId": "b",
            },
        ]
    }
    with pytest.raises(RuntimeError, match="disk full"):
        _ingest(store, body)
    assert _counts(store) == (0, 0, 0)
    monkeypatch.undo()
    assert _ingest(store, body).stored == 2
    assert _counts(store) == (2, 1, 1)


def test_fast_inserts_store_what_the_orm_stores(store: Store) -> None:
    when = datetime(2026, 3, 1, 21, 30, 5, 120000, tzinfo=UTC) + timedelta(hours=9) - timedelta(hours=9)
    row = {
        "message_id": "fast",
        "type": "track",
        "name": "購入",
        "customer_id": None,
        "anonymous_id": "d",
        "occurred_at": when,
        "received_at": when,
        "properties": {"商品": "茶", "n": 1.5, "nested": [1, {"a": None}]},
        "context": {},
    }
    with store.session() as s, s.begin():
        s.add(Event(**{**row, "message_id": "orm"}))
        s.flush()
        insert_events(s.connection(), [row, {**row, "name": "dup"}])  # the duplicate id is skipped
    with store.session() as s:
        fast, orm = (s.scalars(select(Event).where(Event.message_id == m)).one() for m in ("fast", "orm"))
        assert (fast.name, fast.occurred_at, fast.properties) == (orm.name, orm.occurred_at, orm.properties)
        stored = s.execute(text("SELECT occurred_at FROM events ORDER BY message_id")).scalars().all()
        assert len(set(map(str, stored))) == 1  # the same text (SQLite) or value (PostgreSQL)
        assert s.scalar(select(func.count()).select_from(Event)) == 2
