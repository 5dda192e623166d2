"""``/``: the store at a glance — customers, active scenarios, deliveries and revenue in the last 30 days —
and charts of deliveries and revenue per day over the last 90 days.

Every figure is one indexed aggregate (orders and deliveries by their time index), kept for
``dashboard_cache_seconds`` by :class:`~kizuna.dashboard.cache.Aggregates`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select

from kizuna.dashboard.charts import chart, daily
from kizuna.dashboard.web import SignedIn, render
from kizuna.store.automation import Delivery, Scenario
from kizuna.store.engine import Store
from kizuna.store.orders import is_purchase
from kizuna.store.tables import Customer, Order
from kizuna.store.types import utcnow

NAV = ("nav.overview", "/")
router = APIRouter()
CHART_DAYS = 90


@dataclass(frozen=True)
class Overview:
    """The figures of the overview page."""

    customers: int
    active_scenarios: int
    deliveries_30d: int
    revenue_30d: float
    deliveries_per_day: dict[date, float]
    revenue_per_day: dict[date, float]
    today: date


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def overview(store: Store, now: datetime) -> Overview:
    """Count the overview's figures at ``now``."""
    since_30, since_90 = now - timedelta(days=30), now - timedelta(days=CHART_DAYS)
    with store.session() as session:
        customers = session.scalar(select(func.count()).select_from(Customer)) or 0
        active = session.scalar(select(func.count()).where(Scenario.status == "active")) or 0
        delivered = session.execute(
            select(func.date(Delivery.created_at), func.count())
            .where(Delivery.created_at >= since_90)
            .group_by(func.date(Delivery.created_at))
        ).all()
        revenue = session.execute(
            select(func.date(Order.ordered_at), func.coalesce(func.sum(Order.total), 0.0))
            .where(Order.ordered_at >= since_90, is_purchase(Order.status))
            .group_by(func.date(Order.ordered_at))
        ).all()
        deliveries_30 = session.scalar(select(func.count()).where(Delivery.created_at >= since_30)) or 0
        revenue_30 = session.scalar(
            select(func.coalesce(func.sum(Order.total), 0.0)).where(
                Order.ordered_at >= since_30, is_purchase(Order.status)
            )
        )
    return Overview(
        int(customers),
        int(active),
        int(deliveries_30),
        float(revenue_30 or 0.0),
        {_day(d): float(n) for d, n in delivered},
        {_day(d): float(v) for d, v in revenue},
        now.date(),
    )


#: Store-wide figures this page shows, counted in the background after each sign-in.
FIGURES = {"overview": lambda store: overview(store, utcnow())}


@router.get("/")
def overview_page(ctx: SignedIn) -> Response:
    """The overview."""
    figures: Overview = ctx.figure("overview")
    deliveries = daily(figures.deliveries_per_day, days=CHART_DAYS, until=figures.today)
    revenue = daily(figures.revenue_per_day, days=CHART_DAYS, until=figures.today)
    return render(
        ctx,
        "overview.html",
        figures=figures,
        deliveries_chart=chart(deliveries, label=ctx.t("overview.deliveries_per_day"), kind="bar"),
        revenue_chart=chart(
            revenue, label=ctx.t("overview.revenue_per_day"), describe=lambda v: f"¥{v:,.0f}"
        ),
    )
