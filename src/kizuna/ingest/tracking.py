"""Tracking events in, the Segment way: one batch of messages, written all or nothing.

:func:`ingest_batch` is what ``/v1/batch`` (and every single-message endpoint) calls, inside one transaction:

- **Duplicates** are dropped by ``messageId``: one look-up for the whole batch, and the unique key on
  ``events.message_id`` (insert-or-ignore) for a copy that arrives concurrently. A dropped duplicate has no
  effect at all, so a client retrying a batch changes nothing.
- **Clock skew** is corrected as Segment does: a device whose clock is off sends ``timestamp`` and ``sentAt``
  from the same wrong clock, so ``occurred = timestamp + (received_at − sentAt)``.
- **Identity**: ``identify`` and ``alias`` go through :mod:`kizuna.ingest.identity` before the batch's other
  events are attributed, so events sent just before a login land on the customer. Other events are attributed
  in bulk (one query for the user ids, one for the devices); a user id kizuna has never seen is identified
  (the customer is created), and a known user seen on a new device links that device.
- **Consent**: a site that uses Segment sends only what its consent banner allowed, and ``/kizuna.js`` sends
  nothing before consent when the site asks for opt-in; the server cannot see a browser's choice, so it does
  not apply the tracking default itself. It does respect a *recorded* decision: events of a known customer
  whose latest tracking decision is denied or withdrawn are not stored at all (counted as ``dropped``). Their
  ``identify`` still updates the profile they gave us; only the behavioural record is refused.
- **E-commerce**: the spec's events update products and orders, and cancel or refund them (see
  :mod:`kizuna.ingest.commerce`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from kizuna.ingest.commerce import (
    OrderChange,
    PlacedOrder,
    change_orders,
    products_of,
    upsert_products,
    write_orders,
)
from kizuna.ingest.event_insert import insert_events
from kizuna.ingest.identity import alias, hold_devices, identify
from kizuna.ingest.lookups import (
    customers_by_device,
    customers_by_user_id,
    stored_message_ids,
    tracking_decisions,
)
from kizuna.ingest.segment import (
    Alias,
    AnyMessage,
    Batch,
    CartFields,
    Identify,
    Message,
    OrderChangeFields,
    OrderFields,
    ProductFields,
    Track,
    aware,
    batch_adapter,
)
from kizuna.privacy.consent import Status
from kizuna.store.types import utcnow

__all__ = ["Batch", "Incoming", "IngestResult", "Message", "ingest_batch", "ingest_batches", "parse_batch"]

_REFUSING = (Status.DENIED.value, Status.WITHDRAWN.value)


@dataclass
class IngestResult:
    """What one batch did."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0
    products: int = 0
    orders: int = 0
    changed_orders: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The result as the API answers it (Segment's ``success`` first)."""
        return {
            "success": True,
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "products": self.products,
            "orders": self.orders,
            "changed_orders": self.changed_orders,
            "notes": self.notes,
        }


def parse_batch(data: bytes | str | Mapping[str, Any]) -> Batch:
    """A batch from JSON text or decoded JSON; raises pydantic's ValidationError naming each bad field."""
    if isinstance(data, (bytes, str)):
        return batch_adapter.validate_json(data)
    return batch_adapter.validate_python(data)


def _devices(messages: Iterable[AnyMessage]) -> set[str]:
    """The anonymous ids the messages name (an alias's previous id may be one)."""
    listed = list(messages)
    found = {m.anonymous_id for m in listed if m.anonymous_id}
    return found | {m.previous_id for m in listed if isinstance(m, Alias)}


def _message_id(message: Message) -> str:
    if message.message_id is not None:
        return message.message_id
    if message.timestamp is None:
        return f"kz-{uuid.uuid4()}"
    # Without a messageId, a resent copy of the same message (same time, same content) gets the same id.
    body = json.dumps(message.model_dump(mode="json", by_alias=True), sort_keys=True, default=str)
    return "kz-" + hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


def _occurred(message: Message, sent_at: datetime | None, received_at: datetime) -> datetime:
    if message.timestamp is None:
        return received_at
    sent = message.sent_at or sent_at
    if sent is None:
        return aware(message.timestamp)
    return aware(message.timestamp) + (received_at - aware(sent))


def _refusing_tracking(conn: Connection, customer_ids: Iterable[int]) -> set[int]:
    """The customers whose latest recorded tracking decision is denied or withdrawn."""
    return {c for c, status in tracking_decisions(conn, customer_ids).items() if status in _REFUSING}


def _attribute(session: Session, messages: Sequence[tuple[AnyMessage, datetime]]) -> list[int | None]:
    """The customer of each message (None for a device nobody is linked to), in bulk."""
    conn = session.connection()
    users = customers_by_user_id(conn, (m.user_id for m, _ in messages if m.user_id))
    devices = customers_by_device(conn, (m.anonymous_id for m, _ in messages if m.anonymous_id))
    found: list[int | None] = []
    for message, at in messages:
        uid, aid = message.user_id, message.anonymous_id
        if uid is None:
            found.append(devices.get(aid) if aid is not None else None)
            continue
        cid = users.get(uid)
        if cid is None or (aid is not None and devices.get(aid) != cid):
            # A user id never seen (or kept as an identity after a merge), or a device new to this user.
            cid = identify(session, user_id=uid, anonymous_id=aid, at=at)
            assert cid is not None
            users[uid] = cid
            if aid is not None:
                devices[aid] = cid
        found.append(cid)
    return found


@dataclass
class Incoming:
    """One request's messages, with what its batch says of them all (``sentAt``, shared ``context``)."""

    messages: Sequence[AnyMessage]
    received_at: datetime
    sent_at: datetime | None = None
    context: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, batch: Batch, received_at: datetime) -> Incoming:
        """A parsed ``/v1/batch`` body as it arrived."""
        return cls(batch.batch, received_at, batch.sent_at, batch.context)


def ingest_batch(
    session: Session,
    messages: Sequence[AnyMessage] | Batch,
    received_at: datetime,
    *,
    sent_at: datetime | None = None,
    context: Mapping[str, Any] | None = None,
) -> IngestResult:
    """Store a batch of Segment messages in the caller's transaction (see the module docstring).

    ``sent_at`` and ``context`` are the batch's own (a :class:`Batch` brings them); a message's ``sentAt``
    overrides the batch's, and its context keys override the batch context's. The caller commits; on any
    error it rolls back, and nothing of the batch remains.
    """
    if isinstance(messages, Batch):
        incoming = Incoming.of(messages, received_at)
    else:
        incoming = Incoming(messages, received_at, sent_at, context)
    return ingest_batches(session, [incoming])[0]


def ingest_batches(session: Session, incoming: Sequence[Incoming]) -> list[IngestResult]:
    """Store several batches in the caller's transaction, as if one after the other; a result for each.

    Writing the batches of concurrent requests together shares the look-ups, the inserts and the commit.
    """
    results = [IngestResult(received=len(b.messages)) for b in incoming]
    items = [(k, m) for k, b in enumerate(incoming) for m in b.messages]
    ids = [_message_id(m) for _, m in items]
    conn = session.connection()
    seen = stored_message_ids(conn, ids)
    fresh: list[tuple[int, str, AnyMessage, datetime]] = []
    for message_id, (k, message) in zip(ids, items, strict=True):
        if message_id in seen:
            results[k].duplicates += 1
            continue
        seen.add(message_id)
        batch = incoming[k]
        fresh.append((k, message_id, message, _occurred(message, batch.sent_at, batch.received_at)))

    # The batch's devices are held first (PostgreSQL), so that a concurrent identify and this batch's
    # anonymous events of the same device take turns (see identity.hold_devices).
    hold_devices(session, _devices(m for _, _, m, _ in fresh))
    # Identity first, so that the batch's other events are attributed to whoever it reveals.
    for _, _, message, at in fresh:
        if isinstance(message, Identify):
            uid, aid = message.user_id, message.anonymous_id
            identify(session, user_id=uid, anonymous_id=aid, traits=message.traits, at=at)
        elif isinstance(message, Alias):
            alias(session, previous_id=message.previous_id, user_id=message.user_id, at=at)

    customers = _attribute(session, [(m, at) for _, _, m, at in fresh])
    refusing = _refusing_tracking(conn, (c for c in customers if c is not None))
    shared = [dict(b.context or {}) for b in incoming]
    rows: list[dict[str, Any]] = []
    products: list[tuple[int, dict[str, Any]]] = []
    orders: list[tuple[int, PlacedOrder]] = []
    changes: list[tuple[int, OrderChange]] = []
    for (k, message_id, message, at), customer_id in zip(fresh, customers, strict=True):
        if customer_id in refusing:
            results[k].dropped += 1
            continue
        results[k].stored += 1
        rows.append(
            {
                "message_id": message_id,
                "type": message.type,
                "name": message.event_name,
                "customer_id": customer_id,
                "anonymous_id": message.anonymous_id,
                "occurred_at": at,
                "received_at": incoming[k].received_at,
                "properties": message.payload,
                "context": {**shared[k], **message.context} if shared[k] else message.context,
            }
        )
        spec = message.commerce if isinstance(message, Track) else None
        if isinstance(spec, (ProductFields, CartFields)):
            products.extend((k, row) for row in products_of(spec))
        if isinstance(spec, OrderFields):
            channel = "app" if "app" in message.context or "app" in shared[k] else "web"
            orders.append((k, PlacedOrder(spec, customer_id, at, channel)))
        if isinstance(spec, OrderChangeFields):
            assert isinstance(message, Track)
            changes.append((k, OrderChange(message.event, spec, customer_id, at)))

    if products:
        changed = upsert_products(conn, [row for _, row in products], utcnow())
        for k, skus in _by_batch((k, row["sku"]) for k, row in products).items():
            results[k].products = len(skus & changed)
    if orders:
        written = write_orders(conn, [p for _, p in orders if p.customer_id is not None])
        for k, placed in orders:
            order_id = placed.fields.order_id
            if placed.customer_id is None:
                results[k].notes.append(
                    f"order {order_id} was not recorded: its visitor is not a known customer "
                    "(send identify with a userId before Order Completed)"
                )
            elif order_id in written:
                written.discard(order_id)
                results[k].orders += 1
    if changes:  # after the batch's own orders, which a cancellation may follow
        for (k, _), note in zip(changes, change_orders(conn, [c for _, c in changes]), strict=True):
            if note is None:
                results[k].changed_orders += 1
            else:
                results[k].notes.append(note)
    insert_events(conn, rows)
    return results


def _by_batch(pairs: Iterable[tuple[int, str]]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for k, value in pairs:
        found.setdefault(k, set()).add(value)
    return found
