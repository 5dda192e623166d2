"""Scenario measurement: runs per arm against the control group, deliveries, costs, ROI and uplift.

Every run of the scenario is a unit, treated or not: its *arm* is ``control`` or ``holdout`` for runs kept
back (status ``control``/``holdout``: recorded, never contacted), else the arm its split chose, else
``treated``. For each run, from the store:

- *responded*: one of its deliveries got an open, click, scan, redemption or order response (control and
  holdout runs have no delivery, so their response rate is 0 by construction);
- *converted* and *revenue*: purchases (orders not cancelled, refunded or returned) the customer placed after
  entering, within ``attribution_window_days`` (measured the same way for treated and control runs: that is
  what makes the comparison fair).

Each treated arm is compared with ``control`` (:func:`kizuna.measure.experiment.compare`). The incremental
revenue is the uplift in revenue per customer of all treated runs together, times their number; the
scenario's ROI is (incremental revenue − cost) / cost, with cost from :mod:`kizuna.measure.deliveries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.channels.responses import ResponseKind
from kizuna.config import Settings, get_settings
from kizuna.errors import NotFoundError
from kizuna.measure.deliveries import DeliveryLine, delivery_lines
from kizuna.measure.experiment import (
    NO_ARM,
    ArmOutcome,
    ArmUplift,
    compare,
    uplift_dict,
)
from kizuna.measure.stats import Uplift, mean_uplift
from kizuna.measure.window import orders_after
from kizuna.store.automation import Delivery, Response, Scenario, ScenarioRun
from kizuna.store.epoch import epoch_micros

#: Run statuses of customers kept back: recorded, never contacted.
KEPT_BACK = ("control", "holdout")
#: Responses that count a run as having responded (an unsubscribe is an answer, not a response).
RESPONDING = tuple(
    k.value
    for k in (
        ResponseKind.OPEN,
        ResponseKind.CLICK,
        ResponseKind.SCAN,
        ResponseKind.REDEEM,
        ResponseKind.ORDER,
    )
)


@dataclass(frozen=True)
class ScenarioMeasurement:
    """What a scenario achieved: per arm, per delivery line, and in total."""

    scenario: str
    window_days: float
    currency: str
    confidence: float
    arms: list[ArmOutcome]
    control_arm: str | None
    uplifts: list[ArmUplift]
    deliveries: list[DeliveryLine]
    treated_uplift: Uplift | None
    """Revenue per customer of all treated runs against control."""

    @property
    def cost(self) -> float:
        """What the sent deliveries cost."""
        return round(sum(line.cost for line in self.deliveries), 2)

    @property
    def treated_customers(self) -> int:
        """Runs that were not kept back."""
        return sum(a.customers for a in self.arms if not a.is_control)

    @property
    def incremental_revenue(self) -> tuple[float, float, float] | None:
        """Revenue due to the scenario (estimate, low, high), from the treated runs' uplift over control."""
        if self.treated_uplift is None:
            return None
        n = self.treated_customers
        u = self.treated_uplift
        return u.difference * n, u.low * n, u.high * n

    @property
    def roi(self) -> float | None:
        """(incremental revenue − cost) / cost; None without a cost or a control group."""
        incremental = self.incremental_revenue
        if incremental is None or self.cost <= 0:
            return None
        return (incremental[0] - self.cost) / self.cost

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """Plain data for ``--json``."""
        incremental = self.incremental_revenue
        return {
            "scenario": self.scenario,
            "window_days": self.window_days,
            "currency": self.currency,
            "confidence": self.confidence,
            "control_arm": self.control_arm,
            "arms": [a.to_dict() for a in self.arms],
            "uplifts": [u.to_dict(lang) for u in self.uplifts],
            "deliveries": [line.to_dict() for line in self.deliveries],
            "cost": self.cost,
            "treated_uplift": uplift_dict(self.treated_uplift, lang) if self.treated_uplift else None,
            "incremental_revenue": None
            if incremental is None
            else dict(zip(("estimate", "low", "high"), incremental, strict=True)),
            "roi": self.roi,
        }


def _arm_of(status: str, arm: str | None) -> str:
    return status if status in KEPT_BACK else (arm or NO_ARM)


def run_outcomes(session: Session, scenario_id: int, window_days: float) -> list[ArmOutcome]:
    """Per arm: runs, runs that responded, runs whose customer bought in the window, and revenue."""
    answered = (
        select(Delivery.run_id)
        .join(Response, Response.delivery_id == Delivery.id)
        .where(Delivery.scenario_id == scenario_id, Response.kind.in_(RESPONDING))
        .distinct()
        .subquery()
    )
    runs = (
        session.connection()
        .execute(  # Core rows: no ORM loading for half a million runs
            select(
                ScenarioRun.customer_id,
                ScenarioRun.status,
                ScenarioRun.arm,
                epoch_micros(session, ScenarioRun.entered_at),
                answered.c.run_id.is_not(None),
            )
            .outerjoin(answered, answered.c.run_id == ScenarioRun.id)
            .where(ScenarioRun.scenario_id == scenario_id)
        )
        .all()
    )
    if not runs:
        return []
    customers = np.fromiter((r[0] for r in runs), dtype=np.int64, count=len(runs))
    moments = np.fromiter((r[3] for r in runs), dtype=np.int64, count=len(runs))
    orders, revenue = orders_after(session, customers, moments, window_days)
    groups = [(_arm_of(status, arm), status in KEPT_BACK) for _, status, arm, _, _ in runs]
    keys = sorted(set(groups))
    index = {key: k for k, key in enumerate(keys)}
    group = np.fromiter((index[g] for g in groups), dtype=np.int64, count=len(groups))
    responded = np.fromiter((bool(r[4]) for r in runs), dtype=bool, count=len(runs))

    def per_group(values: Any) -> Any:
        return np.bincount(group, weights=values, minlength=len(keys))

    n, resp, conv = np.bincount(group, minlength=len(keys)), per_group(responded), per_group(orders > 0)
    total, squares = per_group(revenue), per_group(revenue * revenue)
    outcomes = [
        ArmOutcome(arm, int(n[k]), control, int(resp[k]), int(conv[k]), round(float(total[k]), 2),
                   float(squares[k]))
        for k, (arm, control) in enumerate(keys)
    ]  # fmt: skip
    return sorted(outcomes, key=lambda a: (a.is_control, a.arm))


def _pooled(arms: list[ArmOutcome]) -> ArmOutcome:
    treated = [a for a in arms if not a.is_control]
    return ArmOutcome(
        "all treated",
        sum(a.customers for a in treated),
        False,
        sum(a.responded for a in treated),
        sum(a.converted for a in treated),
        sum(a.revenue for a in treated),
        sum(a.revenue_squares for a in treated),
    )


def measure_scenario(
    session: Session, name: str, *, confidence: float = 0.95, settings: Settings | None = None
) -> ScenarioMeasurement:
    """Measure scenario ``name``: arms and uplift over control, deliveries, cost, incremental revenue, ROI.

    Raises:
        NotFoundError: there is no scenario called ``name``.
    """
    settings = settings or get_settings()
    scenario = session.scalars(select(Scenario).where(Scenario.name == name)).one_or_none()
    if scenario is None:
        known = session.scalars(select(Scenario.name).order_by(Scenario.name).limit(20)).all()
        hint = f"known: {', '.join(known)}" if known else "no scenario has been saved yet"
        raise NotFoundError(f"no scenario {name!r} ({hint})")
    days = settings.attribution_window_days
    arms = run_outcomes(session, scenario.id, days)
    control = "control" if any(a.arm == "control" and a.is_control for a in arms) else None
    treated_uplift = None
    if control is not None:
        pooled, base = _pooled(arms), next(a for a in arms if a.arm == control)
        if pooled.customers >= 2 and base.customers >= 2:
            treated_uplift = mean_uplift(
                pooled.summary(), base.summary(), metric="revenue_per_customer", confidence=confidence
            )
    return ScenarioMeasurement(
        scenario=scenario.name,
        window_days=days,
        currency=settings.default_currency,
        confidence=confidence,
        arms=arms,
        control_arm=control,
        uplifts=compare(arms, control, confidence=confidence),
        deliveries=delivery_lines(session, scenario.id, settings),
        treated_uplift=treated_uplift,
    )
