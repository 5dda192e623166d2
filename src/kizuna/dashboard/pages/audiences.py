"""``/audiences``: the ad audiences there are — every segment (its members as last rebuilt) and every
audience that scenarios sent customers to (``ads`` deliveries in the outbox) — and how to export them.

Outbox audiences are counted once per ``dashboard_cache_seconds``; exporting stays the CLI's job
(``kizuna audiences export``), which checks each member's ads consent at that moment.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import distinct, func, select

from kizuna.channels.audiences import PLATFORMS
from kizuna.channels.audiences.members import AUDIENCE_STATUSES
from kizuna.dashboard.web import SignedIn, render
from kizuna.store.automation import Delivery, Segment
from kizuna.store.engine import Store

NAV = ("nav.audiences", "/audiences")
router = APIRouter()
LIMIT = 200


def outbox_audiences(store: Store) -> list[tuple[str, int]]:
    """Audiences named by ``ads`` deliveries going or gone out, with how many customers each holds."""
    audience = Delivery.payload["audience"].as_string()
    with store.session() as session:
        rows = session.execute(
            select(audience, func.count(distinct(Delivery.customer_id)))
            .where(Delivery.channel == "ads", Delivery.status.in_(AUDIENCE_STATUSES))
            .group_by(audience)
            .order_by(audience)
            .limit(LIMIT)
        )
        return [(str(name), int(n)) for name, n in rows if name]


#: Store-wide figures this page shows, counted in the background after each sign-in.
FIGURES = {"audiences": outbox_audiences}


@router.get("/audiences")
def audiences_page(ctx: SignedIn) -> Response:
    """Segments and outbox audiences, with member counts and the export command."""
    with ctx.store.session() as session:
        segments = session.execute(
            select(Segment.name, Segment.member_count, Segment.rebuilt_at).order_by(Segment.name).limit(LIMIT)
        ).all()
    outbox: list[tuple[str, int]] = ctx.figure("audiences")
    return render(ctx, "audiences.html", segments=segments, outbox=outbox, platforms=PLATFORMS)
