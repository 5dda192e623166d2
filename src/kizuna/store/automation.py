"""Automation tables: segments and their membership history, scenarios, each customer's run through a
scenario, the delivery outbox, responses to deliveries, and the engine's cursors.

They share ``Base`` with ``tables.py`` and are owned by migrations 0004, 0005 (responses) and 0009
(responses' orders). A delivery is
written to the outbox, under a unique key, in the same transaction that moves a run past its action step: a
crash may delay a message, never send it twice or lose it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kizuna.store.tables import Base
from kizuna.store.types import CUSTOMER_REFERENCE, BigId, JSONDict, UTCDateTime, utcnow


class Segment(Base):
    """A named set of customers, defined by a declarative condition (``definition``), never by code."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDict)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SegmentMember(Base):
    """One stay of a customer in a segment: open while ``left_at`` is empty. A new row per re-entry.

    Rebuilds write hundreds of thousands of rows at once, so the two ids carry no foreign keys: PostgreSQL
    checks those row by row, which tripled the time of a first fill (11.7 s against 3.9 s for 691,023
    members). The rows are written only from the ids of existing customers and segments; removing a segment
    deletes its rows, and the customer id is marked so that merging, export and deletion treat it as a
    reference.
    """

    __tablename__ = "segment_members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    segment_id: Mapped[int] = mapped_column(BigId)
    customer_id: Mapped[int] = mapped_column(BigId, info={CUSTOMER_REFERENCE: True})
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_segment_members_segment_id_customer_id", SegmentMember.segment_id, SegmentMember.customer_id)
Index("ix_segment_members_customer_id", SegmentMember.customer_id)


class Scenario(Base):
    """A marketing scenario: its validated definition (trigger, steps, policies) and whether it is running.

    ``campaign_id`` ties it to the campaign under which its arms, control group, coupons and responses are
    measured.
    """

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ScenarioRun(Base):
    """One customer's way through a scenario: which step, waiting until when or for what, in which arm.

    ``occurrence`` tells entries apart (``once`` for scenarios a customer enters once; the trigger's event id,
    segment stay or date otherwise); the unique key makes entering idempotent. ``status`` is ``waiting``
    (until ``wake_at`` or ``waiting_for``), ``done``, ``exited`` (goal reached, condition or exit step),
    ``control`` or ``holdout`` (recorded, never contacted).
    """

    __tablename__ = "scenario_runs"
    __table_args__ = (UniqueConstraint("scenario_id", "customer_id", "occurrence"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(BigId, ForeignKey("scenarios.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    occurrence: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    step: Mapped[str | None] = mapped_column(String(100))
    arm: Mapped[str | None] = mapped_column(String(64))
    wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting_for: Mapped[str | None] = mapped_column(String(200))
    context: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exit_reason: Mapped[str | None] = mapped_column(String(64))


Index("ix_scenario_runs_status_wake_at", ScenarioRun.status, ScenarioRun.wake_at)
Index("ix_scenario_runs_customer_id_status", ScenarioRun.customer_id, ScenarioRun.status)


#: A delivery's states: written and due (``pending``), claimed by a dispatcher (``sending``), gone out
#: (``sent``), given up (``failed``), or kept back by consent, a cap or an erasure (``suppressed``).
PENDING, SENDING, SENT, FAILED, SUPPRESSED = "pending", "sending", "sent", "failed", "suppressed"
#: The states of a delivery that is going out or has gone out: what frequency caps and audiences count.
OUTGOING = (PENDING, SENDING, SENT)


class Delivery(Base):
    """The outbox: one message to one customer through one channel, written before anything is sent.

    ``key`` (scenario, step, customer, occurrence) is unique, so the same decision can never be written twice.
    Channels claim ``pending`` rows, and record ``sent``, ``failed`` (with ``error``) or ``suppressed``.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    scenario_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("scenarios.id", ondelete="SET NULL"), nullable=True
    )
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    step: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    template: Mapped[str | None] = mapped_column(String(200))
    arm: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_deliveries_status_channel_due_at", Delivery.status, Delivery.channel, Delivery.due_at)
Index(
    "ix_deliveries_customer_id_channel_created_at",
    Delivery.customer_id,
    Delivery.channel,
    Delivery.created_at,
)


class Response(Base):
    """One response to a delivery: an ``open``, ``click``, ``unsubscribe``, ``scan``, ``redeem`` or ``order``.

    A row per response (an email opened three times has three ``open`` rows); counting the first per delivery
    is the reader's choice. ``scenario_id``, ``step`` and ``arm`` are copied from the delivery so that results
    per scenario and arm need no join. ``details`` holds the clicked URL and the user agent's family, never an
    IP address. ``order_id`` is the order a ``redeem`` or ``order`` response stands for (migration 0009):
    unique with ``kind``, so an order is attributed at most once as each.
    """

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("order_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("deliveries.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    scenario_id: Mapped[int | None] = mapped_column(BigInteger)
    step: Mapped[str | None] = mapped_column(String(100))
    arm: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    order_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), nullable=True
    )


Index("ix_responses_delivery_id_kind", Response.delivery_id, Response.kind)
Index("ix_responses_scenario_id_kind", Response.scenario_id, Response.kind)


class EngineCursor(Base):
    """How far a reader (the scenario engine's event intake, segment-entry intake ...) has read a log."""

    __tablename__ = "engine_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
