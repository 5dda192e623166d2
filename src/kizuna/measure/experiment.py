"""Experiment reports: each arm of a campaign against its control group, from ``campaign_members``.

Any campaign whose members carry an arm, a control flag and their outcome (``responded``, ``converted``,
``revenue``) is an experiment: the Hillstrom e-mail test as imported, or a scenario's campaign. For each arm
the report gives the customers, response and conversion rates and revenue per customer, and for each
treatment arm the uplift over the control arm on all three (see :mod:`kizuna.measure.stats`).

The control arm is the one the campaign names (``attributes.control_arm``), else the control arm named
``control``, else the largest arm whose members are flagged ``is_control``. Other control-flagged arms (the
store-wide ``holdout``) are reported but not used as the baseline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from kizuna.errors import NotFoundError
from kizuna.measure.stats import Summary, Uplift, mean_uplift, proportion_uplift
from kizuna.store.tables import Campaign, CampaignMember

#: The arm name given to members without one (customers who entered a scenario and met no split).
NO_ARM = "treated"


@dataclass(frozen=True)
class ArmOutcome:
    """What one arm's customers did."""

    arm: str
    customers: int
    is_control: bool
    responded: int
    converted: int
    revenue: float
    revenue_squares: float = 0.0

    @property
    def response_rate(self) -> float:
        """Share of the arm's customers who responded (visited, opened ...)."""
        return self.responded / self.customers if self.customers else 0.0

    @property
    def conversion_rate(self) -> float:
        """Share of the arm's customers who bought."""
        return self.converted / self.customers if self.customers else 0.0

    @property
    def revenue_per_customer(self) -> float:
        """Revenue divided by every customer of the arm, buyers or not."""
        return self.revenue / self.customers if self.customers else 0.0

    def summary(self) -> Summary:
        """Revenue as sums, for a difference of means."""
        return Summary(self.customers, self.revenue, self.revenue_squares)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, rates included."""
        data = asdict(self)
        data.pop("revenue_squares")
        return data | {
            "response_rate": self.response_rate,
            "conversion_rate": self.conversion_rate,
            "revenue_per_customer": self.revenue_per_customer,
        }


@dataclass(frozen=True)
class ArmUplift:
    """A treatment arm against the control arm: response, conversion and revenue per customer."""

    arm: str
    control: str
    uplifts: list[Uplift]

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """Plain data, with relative uplift, significance and the verdict in ``lang``."""
        return {
            "arm": self.arm,
            "control": self.control,
            "uplifts": [uplift_dict(u, lang) for u in self.uplifts],
        }


@dataclass(frozen=True)
class ExperimentReport:
    """A campaign's arms and each treatment arm's uplift over the control."""

    campaign: str
    name: str
    control_arm: str | None
    arms: list[ArmOutcome]
    uplifts: list[ArmUplift] = field(default_factory=list)
    confidence: float = 0.95

    def arm(self, name: str) -> ArmOutcome:
        """The arm called ``name``; KeyError when there is none."""
        for outcome in self.arms:
            if outcome.arm == name:
                return outcome
        raise KeyError(name)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "campaign": self.campaign,
            "name": self.name,
            "control_arm": self.control_arm,
            "confidence": self.confidence,
            "arms": [a.to_dict() for a in self.arms],
            "uplifts": [u.to_dict(lang) for u in self.uplifts],
        }


def uplift_dict(uplift: Uplift, lang: str = "en") -> dict[str, Any]:
    """An uplift as plain data, with its relative size, significance and verdict."""
    return asdict(uplift) | {
        "relative": uplift.relative,
        "significant": uplift.significant,
        "verdict": uplift.verdict("ja" if lang == "ja" else "en"),
    }


def compare(arms: list[ArmOutcome], control_arm: str | None, *, confidence: float = 0.95) -> list[ArmUplift]:
    """Each arm that is not control-flagged against ``control_arm`` (nothing without one)."""
    if control_arm is None:
        return []
    base = next(a for a in arms if a.arm == control_arm)
    found = []
    for arm in arms:
        if arm.is_control:
            continue
        uplifts = [
            proportion_uplift(
                arm.responded,
                arm.customers,
                base.responded,
                base.customers,
                metric="response_rate",
                confidence=confidence,
            ),
            proportion_uplift(
                arm.converted,
                arm.customers,
                base.converted,
                base.customers,
                metric="conversion_rate",
                confidence=confidence,
            ),
        ]
        if arm.customers >= 2 and base.customers >= 2:
            uplifts.append(
                mean_uplift(
                    arm.summary(), base.summary(), metric="revenue_per_customer", confidence=confidence
                )
            )
        found.append(ArmUplift(arm.arm, control_arm, uplifts))
    return found


def choose_control(arms: list[ArmOutcome], named: str | None = None) -> str | None:
    """The baseline arm: ``named`` when it is one of the arms, else ``control``, else the largest control
    arm."""
    names = {a.arm for a in arms}
    if named is not None and named in names:
        return named
    controls = [a for a in arms if a.is_control]
    for arm in controls:
        if arm.arm == "control":
            return arm.arm
    return max(controls, key=lambda a: a.customers).arm if controls else None


def find_campaign(session: Session, name: str) -> Campaign:
    """The campaign whose external id or name is ``name`` (or whose id it is); NotFoundError otherwise."""
    tests = [Campaign.external_id == name, Campaign.name == name]
    if name.isdigit():
        tests.append(Campaign.id == int(name))
    found = session.scalars(select(Campaign).where(or_(*tests)).order_by(Campaign.id)).first()
    if found is None:
        known = session.scalars(select(Campaign.external_id).order_by(Campaign.id).limit(20)).all()
        hint = f"known: {', '.join(known)}" if known else "no campaign has been imported yet"
        raise NotFoundError(f"no campaign {name!r} ({hint})")
    return found


def arm_outcomes(session: Session, campaign_id: int) -> list[ArmOutcome]:
    """Per arm: customers, responders, converters, revenue and its sum of squares, in SQL."""
    revenue = func.coalesce(CampaignMember.revenue, 0)
    rows = session.execute(
        select(
            CampaignMember.arm,
            CampaignMember.is_control,
            func.count(),
            func.sum(case((CampaignMember.responded.is_(True), 1), else_=0)),
            func.sum(case((CampaignMember.converted.is_(True), 1), else_=0)),
            func.sum(revenue),
            func.sum(revenue * revenue),
        )
        .where(CampaignMember.campaign_id == campaign_id)
        .group_by(CampaignMember.arm, CampaignMember.is_control)
    )
    found = [
        ArmOutcome(
            arm=arm or NO_ARM,
            customers=int(n),
            is_control=bool(control),
            responded=int(responded or 0),
            converted=int(converted or 0),
            revenue=float(total or 0),
            revenue_squares=float(squares or 0),
        )
        for arm, control, n, responded, converted, total, squares in rows
    ]
    return sorted(found, key=lambda a: (a.is_control, a.arm))


def measure_experiment(session: Session, name: str, *, confidence: float = 0.95) -> ExperimentReport:
    """The report of campaign ``name`` (external id, name or id): its arms and their uplift over control.

    Raises:
        NotFoundError: no such campaign, or it has no members.
    """
    campaign = find_campaign(session, name)
    arms = arm_outcomes(session, campaign.id)
    if not arms:
        raise NotFoundError(f"campaign {campaign.external_id!r} has no members to measure")
    named = (campaign.attributes or {}).get("control_arm")
    control = choose_control(arms, named if isinstance(named, str) else None)
    return ExperimentReport(
        campaign=campaign.external_id,
        name=campaign.name,
        control_arm=control,
        arms=arms,
        uplifts=compare(arms, control, confidence=confidence),
        confidence=confidence,
    )
