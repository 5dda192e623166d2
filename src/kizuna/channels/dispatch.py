"""The dispatcher: sends a channel's due deliveries from the outbox and records what became of each.

States of a delivery (``deliveries.status``)::

    pending ──claim──▶ sending ──sent──────────────▶ sent
       ▲                  │    ──no consent/erased─▶ suppressed
       │                  │    ──permanent error───▶ failed
       └──transient error─┘    (after max attempts ▶ failed)

- **Claim.** Due rows (``pending`` with ``due_at <= now``, and ``sending`` rows whose lease ran out) are
  moved to ``sending`` in one committed statement, with ``attempts + 1`` and ``due_at = now + lease``
  (``KIZUNA_DELIVERY_LEASE_SECONDS``). On PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so
  several dispatchers take different rows; SQLite has one writer at a time, and the claiming statement itself
  takes the write lock. Only then is anything sent: a second dispatch, in this process or another, never sees
  the row as due while it is being sent.
- **Just before sending** each delivery, the customer is read and consent is checked for the channel's
  purpose (``privacy.consent.may`` at ``now``): no consent gives ``suppressed`` with error
  ``no consent: PURPOSE``; an erased or anonymised customer gives ``suppressed`` too.
- **Record.** ``sent`` (``sent_at``); a transient failure goes back to ``pending`` with ``due_at`` moved by an
  exponential backoff (``KIZUNA_DELIVERY_BACKOFF_SECONDS`` doubled per attempt, at most
  ``KIZUNA_DELIVERY_BACKOFF_MAX_SECONDS``), or to ``failed`` once ``KIZUNA_DELIVERY_MAX_ATTEMPTS`` attempts
  were made; a permanent failure gives ``failed``. Every record is guarded by the claim (status ``sending``
  and the same ``attempts``), so a dispatcher whose lease was taken over records nothing.
- **A dispatcher that stops mid-send** leaves its rows ``sending``; after the lease they are claimed again
  (the attempt counts). That is the one way a message can go out twice: delivery is *at least once* at the
  network boundary, and receivers dedupe on the delivery key each channel passes on. A row whose attempts are
  used up is marked failed instead of claimed again. A batch that takes longer than half the lease to send
  hands its unsent rows back rather than risk a second dispatcher sending them too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Update, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kizuna.channels.base import (
    Channel,
    OutboxDelivery,
    PermanentError,
    Recipient,
    RenderContext,
    TransientError,
)
from kizuna.config import Settings, get_settings
from kizuna.privacy.consent import may
from kizuna.privacy.erase import ANONYMISED_PREFIX
from kizuna.store.automation import FAILED, PENDING, SENDING, SENT, SUPPRESSED, Delivery, Scenario
from kizuna.store.engine import Store
from kizuna.store.tables import Customer
from kizuna.store.types import utcnow

log = logging.getLogger(__name__)

#: Longest error text stored on a delivery.
MAX_ERROR = 1_000

_COLUMNS = (
    Delivery.id,
    Delivery.key,
    Delivery.channel,
    Delivery.customer_id,
    Delivery.scenario_id,
    Delivery.run_id,
    Delivery.step,
    Delivery.template,
    Delivery.arm,
    Delivery.payload,
    Delivery.attempts,
    Delivery.created_at,
    Delivery.due_at,
)
_RECIPIENT_FIELDS = [f.name for f in fields(Recipient)]


@dataclass
class DispatchReport:
    """What one or more dispatches did: rows claimed, and what became of them.

    ``retrying``: transient failures put back for later; ``released``: claimed rows handed back unsent
    because the batch ran past half its lease; ``lost``: rows whose lease another dispatcher took over
    before the outcome could be recorded.
    """

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    retrying: int = 0
    released: int = 0
    lost: int = 0

    def add(self, other: DispatchReport) -> None:
        """Add ``other``'s counts to these."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def backoff(attempts: int, settings: Settings) -> timedelta:
    """The wait after failed attempt number ``attempts`` (1-based): base × 2^(attempts-1), capped."""
    base = settings.delivery_backoff_seconds
    seconds = min(settings.delivery_backoff_max_seconds, base * 2.0 ** min(attempts - 1, 60))
    return timedelta(seconds=seconds)


def claimable(channel: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """What a claim takes: ``channel``'s pending deliveries that are due, and those a stopped sender held
    whose lease has run out."""
    return (Delivery.channel == channel, Delivery.status.in_((PENDING, SENDING)), Delivery.due_at <= now)


def claim(
    session: Session,
    channel: str,
    *,
    now: datetime,
    limit: int,
    settings: Settings,
    only: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[OutboxDelivery], int]:
    """Move up to ``limit`` due deliveries of ``channel`` to ``sending``, oldest due first (uncommitted).

    ``only`` narrows the rows further (a scenario's, a print batch's). Returns the claimed deliveries
    (``attempts`` counting this attempt) and how many ``sending`` rows whose lease ran out were marked
    failed because their attempts were used up.
    """
    lease_until = now + timedelta(seconds=settings.delivery_lease_seconds)
    stale = (
        Delivery.channel == channel,
        Delivery.status == SENDING,
        Delivery.due_at <= now,
        Delivery.attempts >= settings.delivery_max_attempts,
        *only,
    )
    gave_up = _rowcount(
        session,
        update(Delivery)
        .where(*stale)
        .values(
            status=FAILED,
            error=f"gave up after {settings.delivery_max_attempts} attempts: "
            "the dispatcher stopped while sending",
        ),
    )
    due = (
        select(*_COLUMNS)
        .where(*claimable(channel, now), *only)
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    else:
        # SQLite: take the write lock before reading (an update, even of no row, does), so that two
        # processes never read the same due rows.
        _rowcount(session, update(Delivery).where(Delivery.id == -1).values(status=Delivery.status))
    rows = session.execute(due).all()
    if rows:
        _rowcount(
            session,
            update(Delivery)
            .where(Delivery.id.in_([row.id for row in rows]))
            .values(status=SENDING, attempts=Delivery.attempts + 1, due_at=lease_until),
        )
    claimed = [OutboxDelivery(**{**row._asdict(), "attempts": row.attempts + 1}) for row in rows]
    return claimed, gave_up


def dispatch(
    store: Store,
    channel: Channel,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    settings: Settings | None = None,
) -> DispatchReport:
    """Claim ``channel``'s due deliveries (up to ``limit``, default ``KIZUNA_DELIVERY_BATCH_SIZE``), send
    each after checking consent and erasure, and record the outcome. See the module docstring."""
    settings = settings or get_settings()
    now = now or utcnow()
    report = DispatchReport()
    with store.session() as session, session.begin():
        claimed, gave_up = claim(
            session, channel.name, now=now, limit=limit or settings.delivery_batch_size, settings=settings
        )
        names = _scenario_names(session, {d.scenario_id for d in claimed if d.scenario_id is not None})
    report.claimed, report.failed = len(claimed), gave_up
    started = time.monotonic()
    # A channel that can keep a connection open between sends (email) does so for the batch.
    batch = getattr(channel, "batch", None)
    with batch() if callable(batch) and claimed else nullcontext():
        for index, delivery in enumerate(claimed):
            if time.monotonic() - started > settings.delivery_lease_seconds / 2:
                report.released = _release(store, claimed[index:])
                break
            context = RenderContext(now, names.get(delivery.scenario_id))
            _deliver(store, channel, delivery, context, settings, report)
    return report


def _scenario_names(session: Session, ids: set[int]) -> dict[int | None, str]:
    if not ids:
        return {}
    rows = session.execute(select(Scenario.id, Scenario.name).where(Scenario.id.in_(sorted(ids))))
    return {scenario_id: name for scenario_id, name in rows}


def _deliver(
    store: Store,
    channel: Channel,
    delivery: OutboxDelivery,
    context: RenderContext,
    settings: Settings,
    report: DispatchReport,
) -> None:
    """Check, render, send and record one claimed delivery."""
    with store.session() as session, session.begin():
        recipient, reason = _recipient(session, channel, delivery, context.now, settings)
        if recipient is None:
            _count(report, "suppressed", _finish(session, delivery, status=SUPPRESSED, error=reason))
            return
    try:
        channel.send(channel.render(delivery, recipient, context))
    except PermanentError as exc:
        outcome: tuple[str, str | None] = (FAILED, str(exc))
    except TransientError as exc:
        outcome = ("retry", str(exc))
    except Exception as exc:  # a channel's bug: bounded by the attempt limit like a transient failure
        log.exception("channel %s: unexpected error sending delivery %s", channel.name, delivery.key)
        outcome = ("retry", f"unexpected {type(exc).__name__}: {exc}")
    else:
        outcome = (SENT, None)
    status, error = outcome
    with store.session() as session, session.begin():
        if status == SENT:
            _count(report, "sent", _finish(session, delivery, status=SENT, sent_at=context.now))
        elif status == FAILED or delivery.attempts >= settings.delivery_max_attempts:
            _count(report, "failed", _finish(session, delivery, status=FAILED, error=error))
        else:
            due = context.now + backoff(delivery.attempts, settings)
            _count(report, "retrying", _finish(session, delivery, status=PENDING, error=error, due_at=due))


def _recipient(
    session: Session, channel: Channel, delivery: OutboxDelivery, now: datetime, settings: Settings
) -> tuple[Recipient | None, str]:
    """The delivery's recipient, or ``None`` and the reason it is suppressed."""
    columns = [getattr(Customer, name) for name in _RECIPIENT_FIELDS]
    row = session.execute(select(*columns).where(Customer.id == delivery.customer_id)).first()
    if row is None:
        return None, "customer erased"
    recipient = Recipient(*row)
    if recipient.external_id.startswith(ANONYMISED_PREFIX):
        return None, "customer anonymised"
    purpose = channel.purpose
    if purpose is not None and not may(session, delivery.customer_id, purpose, at=now, settings=settings):
        return None, f"no consent: {purpose}"
    return recipient, ""


def _finish(session: Session, delivery: OutboxDelivery, *, status: str, **values: object) -> bool:
    """Record the outcome of this claim; False when another dispatcher has taken the row over since."""
    if isinstance(values.get("error"), str):
        values["error"] = str(values["error"])[:MAX_ERROR]
    claimed = (Delivery.id == delivery.id, Delivery.status == SENDING, Delivery.attempts == delivery.attempts)
    return bool(_rowcount(session, update(Delivery).where(*claimed).values(status=status, **values)))


def _rowcount(session: Session, statement: Update) -> int:
    return session.connection().execute(statement).rowcount


def _count(report: DispatchReport, outcome: str, recorded: bool) -> None:
    name = outcome if recorded else "lost"
    setattr(report, name, getattr(report, name) + 1)


def _release(store: Store, deliveries: Sequence[OutboxDelivery]) -> int:
    """Hand claimed, unsent deliveries back: pending again, as due as before, the attempt not counted."""
    released = 0
    with store.session() as session, session.begin():
        for d in deliveries:
            released += _rowcount(
                session,
                update(Delivery)
                .where(Delivery.id == d.id, Delivery.status == SENDING, Delivery.attempts == d.attempts)
                .values(status=PENDING, attempts=d.attempts - 1, due_at=d.due_at),
            )
    return released


def dispatch_forever(
    store: Store,
    channels: Sequence[Channel],
    *,
    poll_interval: float | None = None,
    limit: int | None = None,
    stop: threading.Event | None = None,
    now: Callable[[], datetime] | None = None,
    on_pass: Callable[[DispatchReport], None] | None = None,
    settings: Settings | None = None,
) -> DispatchReport:
    """Dispatch every channel in turn until ``stop`` is set; sleep ``poll_interval`` seconds (default
    ``KIZUNA_DELIVERY_POLL_INTERVAL``) only when a pass claimed nothing. Database errors (a restart, a lost
    connection) are logged and the pass is tried again after the interval. Returns the total."""
    settings = settings or get_settings()
    interval = settings.delivery_poll_interval if poll_interval is None else poll_interval
    stop = stop or threading.Event()
    total = DispatchReport()
    while not stop.is_set():
        report = DispatchReport()
        try:
            for channel in channels:
                when = now() if now else None
                report.add(dispatch(store, channel, now=when, limit=limit, settings=settings))
        except OperationalError:
            log.exception("dispatcher: pass failed; trying again")
            stop.wait(max(interval, 1.0))
            continue
        total.add(report)
        if on_pass is not None:
            on_pass(report)
        if report.claimed == 0 and report.failed == 0:
            stop.wait(interval)
    return total
