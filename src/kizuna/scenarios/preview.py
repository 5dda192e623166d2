"""What a scenario would do now, without doing it: who would enter, how many are kept back as control or
holdout, and for some of them the path through the steps and what each send would deliver.

Branches are evaluated as of ``now`` with the segments compiler, splits with the same stable assignment as
the live run (:mod:`kizuna.scenarios.assign`), and each send is checked against consent
(:func:`kizuna.privacy.consent.may` with the channel's purpose) and the scenario's frequency caps, counting
deliveries already in the outbox and earlier sends on the same path. Nothing is written: the preview reads
in one transaction that is rolled back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.errors import NotFoundError
from kizuna.privacy.consent import may
from kizuna.profiles import find_customer
from kizuna.recommend.base import Recommender
from kizuna.recommend.service import models_dir, recommend_for
from kizuna.scenarios.assign import choose_arm, in_control, in_holdout
from kizuna.scenarios.definition import (
    CHANNEL_PURPOSE,
    BranchStep,
    CouponStep,
    ExitStep,
    Recommend,
    ScenarioDefinition,
    SendStep,
    SplitStep,
    WaitStep,
)
from kizuna.scenarios.durations import format_duration
from kizuna.scenarios.engine.policies import recent_deliveries
from kizuna.scenarios.entrants import Entry, entrants
from kizuna.scenarios.report import describe_step, describe_trigger
from kizuna.scenarios.triggers import trigger_product_key
from kizuna.segments.compiler import matching_ids
from kizuna.segments.registry import resolver
from kizuna.store.engine import Store
from kizuna.store.tables import Customer, Product

Group = Literal["treated", "control", "holdout"]
#: Delivery statuses that count towards a frequency cap (what was or will be sent).


@dataclass(frozen=True)
class Recommendation:
    """A product a send would carry, and why."""

    sku: str
    title: str
    reason: str


@dataclass(frozen=True)
class SendPreview:
    """What one send would deliver to the customer, or why it would be suppressed."""

    channel: str
    template: str | None
    audience: str | None
    slot: str | None
    coupon: bool
    recommendations: list[Recommendation] = field(default_factory=list)
    recommendation_note: str | None = None
    suppressed: str | None = None


@dataclass(frozen=True)
class PathStep:
    """One step on the customer's path, in words, with the send's details for a send step."""

    step: str
    text: str
    send: SendPreview | None = None


@dataclass(frozen=True)
class CustomerPreview:
    """One customer who would enter: why, their group, and (when treated) their path."""

    customer_id: int
    external_id: str
    entry: str
    group: Group
    path: list[PathStep]


@dataclass(frozen=True)
class Preview:
    """The whole preview of a scenario at ``now``."""

    scenario: str
    trigger: str
    now: datetime
    total: int
    control: int
    holdout: int
    customers: list[CustomerPreview]

    def to_data(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        data = asdict(self)
        data["now"] = self.now.isoformat()
        return data


def preview(
    store: Store,
    definition: ScenarioDefinition,
    *,
    now: datetime,
    limit: int = 20,
    customer: str | None = None,
    lookback: timedelta = timedelta(days=7),
    models: Path | None = None,
) -> Preview:
    """Who would enter ``definition`` at ``now`` and what would happen to the first ``limit`` of them.

    ``customer`` (external id, email or ``#id``) narrows the preview to one customer; ``lookback`` is how far
    back an event trigger looks for events. Recommendations come from the trained models in ``models``
    (default: the data directory's); without one, the send says "no trained model".
    """
    with store.session() as session:
        try:
            wanted = None if customer is None else [find_customer(session, customer).id]
            conn = session.connection()
            found = entrants(conn, definition, now=now, lookback=lookback, customer_ids=wanted)
            groups = {cid: _group(definition, cid) for cid in found}
            shown = list(found)[: max(limit, 0)]
            keys = dict(
                session.execute(select(Customer.id, Customer.external_id).where(Customer.id.in_(shown)))
                .tuples()
                .all()
            )
            walker = _Walker(store, session, definition, now=now, models=models)
            customers = [
                CustomerPreview(
                    cid,
                    keys.get(cid, f"#{cid}"),
                    found[cid].reason,
                    groups[cid],
                    walker.path(cid, found[cid]) if groups[cid] == "treated" else [],
                )
                for cid in shown
            ]
        finally:
            session.rollback()
    counts = list(groups.values())
    return Preview(
        definition.name,
        describe_trigger(definition.trigger),
        now,
        len(found),
        counts.count("control"),
        counts.count("holdout"),
        customers,
    )


def _group(definition: ScenarioDefinition, customer_id: int) -> Group:
    if definition.holdout and in_holdout(customer_id):
        return "holdout"
    if in_control(definition.name, customer_id, definition.control):
        return "control"
    return "treated"


class _Walker:
    """Follows one customer's path through the steps, as the engine would if it ran now."""

    def __init__(
        self,
        store: Store,
        session: Session,
        definition: ScenarioDefinition,
        *,
        now: datetime,
        models: Path | None,
    ) -> None:
        self.store = store
        self.session = session
        self.definition = definition
        self.now = now
        self.models = models or models_dir()
        self.resolve = resolver(session.connection())

    def path(self, customer_id: int, entry: Entry) -> list[PathStep]:
        definition = self.definition
        ids = definition.step_ids()
        current: str | None = ids[0]
        coupon = False
        sent: dict[str, int] = {}
        steps: list[PathStep] = []
        # A path visits each step at most once in a preview: a loop needs a wait, and one turn shows it.
        while current is not None and current not in {s.step for s in steps}:
            step = definition.step(current)
            following = definition.following(current)
            text = describe_step(step)
            send = None
            if isinstance(step, BranchStep):
                holds = self._holds(step, customer_id)
                following = step.branch.then if holds else (step.branch.else_ or following)
                text += f": {'yes' if holds else 'no'} now → {following or 'end'}"
            elif isinstance(step, SplitStep):
                weights = [(a.arm, a.weight) for a in step.split]
                arm = choose_arm(definition.name, current, customer_id, weights)
                chosen = next(a for a in step.split if a.arm == arm)
                following = chosen.next or following
                text += f": arm {arm} → {following or 'end'}"
            elif isinstance(step, WaitStep) and step.wait.until_event is not None:
                following = step.wait.on_timeout or following
                timeout = format_duration(step.wait.timeout or timedelta())
                text += f" (if none comes within {timeout} → {following or 'end'})"
            elif isinstance(step, CouponStep):
                coupon = True
            elif isinstance(step, SendStep):
                send = self._send(step, customer_id, entry, coupon=coupon, sent=sent)
                if send.suppressed is None:
                    sent[send.channel] = sent.get(send.channel, 0) + 1
            steps.append(PathStep(current, text, send))
            if isinstance(step, ExitStep):
                break
            current = following
        return steps

    def _holds(self, step: BranchStep, customer_id: int) -> bool:
        conn = self.session.connection()
        found = matching_ids(
            conn, step.branch.if_, now=self.now, resolve=self.resolve, customer_ids=[customer_id]
        )
        return customer_id in set(found)

    def _send(
        self, step: SendStep, customer_id: int, entry: Entry, *, coupon: bool, sent: dict[str, int]
    ) -> SendPreview:
        spec = step.send
        suppressed = self._suppressed(spec.channel, customer_id, sent)
        recommendations: list[Recommendation] = []
        note = None
        if spec.recommend is not None and suppressed is None:
            recommendations, note = self._recommend(spec.recommend, customer_id, entry)
        return SendPreview(
            spec.channel, spec.template, spec.audience, spec.slot, coupon, recommendations, note, suppressed
        )

    def _suppressed(self, channel: str, customer_id: int, sent: dict[str, int]) -> str | None:
        purpose = CHANNEL_PURPOSE[channel]
        if purpose is not None and not may(self.session, customer_id, purpose, at=self.now):
            return f"no consent for {purpose.value}"
        for cap in self.definition.frequency_caps:
            if cap.channel != channel:
                continue
            counts = recent_deliveries(self.session, [customer_id], channel, self.now - cap.per)
            if counts.get(customer_id, 0) + sent.get(channel, 0) >= cap.max:
                return f"frequency cap: {cap.max} {channel} per {format_duration(cap.per)} reached"
        return None

    def _recommend(
        self, spec: Recommend, customer_id: int, entry: Entry
    ) -> tuple[list[Recommendation], str | None]:
        path = self.models / f"{spec.algorithm}.npz"
        if not path.exists():
            return [], f"no trained model {spec.algorithm!r}"
        if spec.similar_to_trigger:
            product = self._trigger_product(entry)
            if product is not None:
                return self._similar(path, product, spec.n), None
        try:
            found = recommend_for(
                self.store, f"#{customer_id}", algorithm_name=spec.algorithm, n=spec.n, models=self.models
            )
        except NotFoundError as exc:
            return [], str(exc)
        return [Recommendation(s.sku, s.title, s.reason_text) for s in found], None

    def _trigger_product(self, entry: Entry) -> Product | None:
        key = trigger_product_key(entry.properties)
        if key is None:
            return None
        return self.session.scalars(select(Product).where(Product.sku == key)).first()

    def _similar(self, path: Path, product: Product, n: int) -> list[Recommendation]:
        model = Recommender.load(path)
        ids, _, reasons = model.similar_items(product.id, n=n)
        wanted = [int(i) for i in ids]
        rows = self.session.execute(
            select(Product.id, Product.sku, Product.title).where(Product.id.in_(wanted))
        )
        by_id = {pid: (sku, title) for pid, sku, title in rows}
        titles = {product.id: product.title} | {pid: title for pid, (_, title) in by_id.items()}
        return [
            Recommendation(by_id[i][0], by_id[i][1], reason.describe(titles))
            for i, reason in zip(wanted, reasons, strict=True)
            if i in by_id
        ]
