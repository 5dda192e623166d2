"""``/consents``: for each purpose, how many customers' latest decision grants, denies or withdraws it (and
what holds for those who never decided), and the latest decisions recorded.

The counts read the whole consent history, so they are kept for ``dashboard_cache_seconds``; the recent
changes read the newest rows through the index on ``recorded_at``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select

from kizuna.dashboard.web import SignedIn, render
from kizuna.privacy.consent import Purpose, default_allows
from kizuna.store.engine import Store
from kizuna.store.tables import Consent, Customer

NAV = ("nav.consents", "/consents")
router = APIRouter()
RECENT = 50


def consent_counts(store: Store) -> dict[str, dict[str, int]]:
    """Per purpose, customers by the status of their latest decision."""
    ranked = select(
        Consent.purpose,
        Consent.status,
        func.row_number()
        .over(
            partition_by=(Consent.customer_id, Consent.purpose),
            order_by=(Consent.recorded_at.desc(), Consent.id.desc()),
        )
        .label("k"),
    ).subquery()
    counts: dict[str, dict[str, int]] = {p.value: {} for p in Purpose}
    with store.session() as session:
        rows = session.execute(
            select(ranked.c.purpose, ranked.c.status, func.count())
            .where(ranked.c.k == 1)
            .group_by(ranked.c.purpose, ranked.c.status)
        )
        for purpose, status, n in rows:
            counts.setdefault(purpose, {})[status] = int(n)
    return counts


#: Store-wide figures this page shows, counted in the background after each sign-in.
FIGURES = {"consents": consent_counts}


@router.get("/consents")
def consents_page(ctx: SignedIn, before: int | None = None) -> Response:
    """Counts per purpose and the latest decisions (paged by id with ``before``)."""
    counts: dict[str, dict[str, int]] = ctx.figure("consents")
    defaults = {p.value: default_allows(p, ctx.dashboard.settings) for p in Purpose}
    query = (
        select(
            Consent.id,
            Customer.id,
            Customer.external_id,
            Consent.purpose,
            Consent.status,
            Consent.source,
            Consent.recorded_at,
        )
        .join(Customer, Customer.id == Consent.customer_id)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(RECENT)
    )
    if before is not None:
        with ctx.store.session() as session:
            at = session.scalar(select(Consent.recorded_at).where(Consent.id == before))
        if at is not None:
            query = query.where(Consent.recorded_at <= at, Consent.id != before)
    with ctx.store.session() as session:
        recent = session.execute(query).all()
    more = recent[-1][0] if len(recent) == RECENT else None
    return render(ctx, "consents.html", counts=counts, defaults=defaults, recent=recent, more=more)
