"""A print batch's deliveries in the outbox: claimed like the dispatcher claims, checked at the point of
use, and recorded only once the batch's files are in place.

- **Claim**: :func:`kizuna.channels.dispatch.claim`, narrowed to the batch's rows, with the lease
  ``KIZUNA_DM_LEASE_SECONDS``: a dispatcher and a batch (or two batches) never take the same row.
- **Check**: for each claimed delivery, just before rendering: the customer is not anonymised (``erased``),
  consent for ``direct_mail`` holds (``no consent``), the address is printable (``no valid address``), and
  no direct mail was sent to them within ``KIZUNA_DM_MIN_DAYS_BETWEEN`` days (``frequency cap``).
- **Finish**: rendered deliveries become ``sent``, the others ``suppressed`` (or ``failed`` when the piece
  could not be set), each guarded by its claim; **release** hands every claimed row back when a batch fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from kizuna.channels.base import OutboxDelivery, Recipient, RenderContext
from kizuna.channels.dispatch import MAX_ERROR, claim, claimable
from kizuna.channels.dm.batch import Suppression
from kizuna.channels.dm.piece import Piece, address_problem, make_piece
from kizuna.config import Settings
from kizuna.errors import KizunaError
from kizuna.privacy.consent import Purpose, consented
from kizuna.privacy.erase import ANONYMISED_PREFIX
from kizuna.security.stored import link_secret
from kizuna.store.automation import FAILED, PENDING, SENDING, SENT, SUPPRESSED, Delivery, Scenario
from kizuna.store.bulk import among
from kizuna.store.engine import Store
from kizuna.store.tables import Customer

CHANNEL = "direct_mail"
_RECIPIENT_FIELDS = [f.name for f in fields(Recipient)]


class LeaseLost(KizunaError):
    """Another process took over deliveries of this batch while it was rendering; nothing was recorded."""


@dataclass
class Checked:
    """The claimed deliveries sorted out: pieces to print, and customers left out."""

    pieces: list[Piece]
    suppressed: list[Suppression]


def claim_batch(
    store: Store, only: Sequence[ColumnElement[bool]], *, now: datetime, limit: int, settings: Settings
) -> tuple[list[OutboxDelivery], dict[int | None, str]]:
    """Claim the batch's due ``direct_mail`` deliveries (committed); them and their scenarios' names."""
    lease = settings.model_copy(update={"delivery_lease_seconds": settings.dm_lease_seconds})
    with store.session() as session, session.begin():
        claimed, _ = claim(session, CHANNEL, now=now, limit=limit, settings=lease, only=only)
        ids = sorted({d.scenario_id for d in claimed if d.scenario_id is not None})
        names: dict[int | None, str] = {}
        if ids:
            rows = session.execute(select(Scenario.id, Scenario.name).where(Scenario.id.in_(ids)))
            names = {sid: name for sid, name in rows}
    return claimed, names


def due_count(store: Store, only: Sequence[ColumnElement[bool]], *, now: datetime) -> int:
    """How many of the rows ``only`` names the next batch would claim (:func:`claimable`)."""
    with store.session() as session:
        waiting = (*claimable(CHANNEL, now), *only)
        return int(session.scalar(select(func.count()).select_from(Delivery).where(*waiting)) or 0)


def _recently_mailed(session: Session, customer_ids: list[int], since: datetime) -> set[int]:
    found: set[int] = set()
    for these in among(session, Delivery.customer_id, customer_ids):
        rows = session.scalars(
            select(Delivery.customer_id)
            .where(these, Delivery.channel == CHANNEL, Delivery.status == SENT, Delivery.sent_at >= since)
            .group_by(Delivery.customer_id)
            .having(func.count() > 0)
        )
        found.update(rows)
    return found


def check(
    store: Store,
    claimed: Sequence[OutboxDelivery],
    names: dict[int | None, str],
    *,
    now: datetime,
    settings: Settings,
) -> Checked:
    """Sort the claimed deliveries into pieces and suppressions (see the module docstring)."""
    assert settings.public_base_url is not None
    secret = link_secret(settings)
    ids = sorted({d.customer_id for d in claimed})
    recipients: dict[int, Recipient] = {}
    with store.session() as session:
        columns = [getattr(Customer, name) for name in _RECIPIENT_FIELDS]
        for these in among(session, Customer.id, ids):
            for row in session.execute(select(*columns).where(these)):
                recipients[row.id] = Recipient(*row)
        allowed = consented(session, ids, Purpose.DIRECT_MAIL, now)
        days = settings.dm_min_days_between
        capped = _recently_mailed(session, ids, now - timedelta(days=days)) if days else set()
    result = Checked([], [])
    for delivery in claimed:
        who = recipients.get(delivery.customer_id)
        if who is None or who.external_id.startswith(ANONYMISED_PREFIX):
            ext = who.external_id if who is not None else str(delivery.customer_id)
            result.suppressed.append(Suppression(ext, delivery.key, "erased", "customer anonymised"))
        elif delivery.customer_id not in allowed:
            result.suppressed.append(
                Suppression(who.external_id, delivery.key, "no consent", f"no consent: {CHANNEL}")
            )
        elif (problem := address_problem(who)) is not None:
            detail = f"no valid address: {problem}"
            result.suppressed.append(Suppression(who.external_id, delivery.key, "no valid address", detail))
        elif delivery.customer_id in capped:
            detail = f"frequency cap: direct mail sent within {days} days"
            result.suppressed.append(Suppression(who.external_id, delivery.key, "frequency cap", detail))
        else:
            context = RenderContext(now, names.get(delivery.scenario_id))
            piece = make_piece(delivery, who, context, base_url=settings.public_base_url, secret=secret)
            result.pieces.append(piece)
    return result


def _guarded(session: Session, d: OutboxDelivery, **values: object) -> bool:
    statement = (
        update(Delivery)
        .where(Delivery.id == d.id, Delivery.status == SENDING, Delivery.attempts == d.attempts)
        .values(**values)
    )
    return bool(session.connection().execute(statement).rowcount)


def finish(
    session: Session,
    claimed: Sequence[OutboxDelivery],
    *,
    printed: set[str],
    suppressed: Sequence[Suppression],
    failed: dict[str, str],
    now: datetime,
) -> None:
    """Record the batch's outcome in ``session``'s transaction; LeaseLost when a row was taken over."""
    reasons = {s.key: s.detail for s in suppressed}
    for d in claimed:
        if d.key in printed:
            done = _guarded(session, d, status=SENT, sent_at=now, error=None)
        elif d.key in failed:
            done = _guarded(session, d, status=FAILED, error=failed[d.key][:MAX_ERROR])
        else:
            done = _guarded(session, d, status=SUPPRESSED, error=reasons.get(d.key, "left out")[:MAX_ERROR])
        if not done:
            raise LeaseLost(
                f"delivery {d.key} was taken over by another process while the batch was rendering: "
                f"raise KIZUNA_DM_LEASE_SECONDS above the batch's rendering time and render again"
            )


def release(store: Store, claimed: Sequence[OutboxDelivery]) -> None:
    """Hand claimed deliveries back: pending again, as due as before, the attempt not counted."""
    with store.session() as session, session.begin():
        for d in claimed:
            session.execute(
                update(Delivery)
                .where(Delivery.id == d.id, Delivery.status == SENDING, Delivery.attempts == d.attempts)
                .values(status=PENDING, attempts=d.attempts - 1, due_at=d.due_at)
            )
