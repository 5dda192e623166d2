"""Action steps for a group of runs at the same step: send (into the outbox), coupon, attribute and tag.

Every action of a batch is written in the batch's transaction, together with the runs moving past it: a crash
before the commit undoes both, a crash after it leaves both done. A delivery's ``key`` (scenario, step,
customer, occurrence and the step's visit number) is unique, so writing the same decision twice is impossible.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kizuna.privacy.consent import Purpose, consented
from kizuna.scenarios.definition import CHANNEL_PURPOSE, CouponSpec, SendSpec
from kizuna.scenarios.engine.localtime import quiet_until, zone
from kizuna.scenarios.engine.policies import (
    events_of,
    happened,
    hold_customers,
    recent_deliveries,
)
from kizuna.scenarios.engine.recommendations import recommend_batch
from kizuna.scenarios.engine.state import EXITED, LoadedScenario, RunReport, RunState
from kizuna.segments.compiler import Resolver
from kizuna.segments.registry import resolver
from kizuna.store.automation import PENDING, SUPPRESSED, Delivery
from kizuna.store.bulk import among, insert_ignore, insert_new, key_map
from kizuna.store.tables import Coupon, CouponProduct, Customer, Product, table_of

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read off paper


@dataclass
class Pass:
    """What every step of one batch shares: the transaction, the clock, the customers' zones, the report."""

    session: Session
    now: datetime
    report: RunReport
    zones: dict[int, ZoneInfo] = field(default_factory=dict)
    _segments: Resolver | None = field(default=None, repr=False)

    def zone_of(self, customer_id: int) -> ZoneInfo:
        """The customer's timezone (the default one if unknown)."""
        return self.zones.get(customer_id) or zone(None)

    def segments(self) -> Resolver:
        """The stored segments' conditions by name, read once per batch (branches name them)."""
        if self._segments is None:
            self._segments = resolver(self.session)
        return self._segments


def delivery_key(run: RunState, step_id: str, visit: int) -> str:
    """The outbox key of a run's visit to a send step: scenario, step, customer, occurrence, visit."""
    return f"{run.scenario_id}:{step_id}:{run.customer_id}:{run.occurrence}:{visit}"


def _visit(run: RunState, step_id: str) -> int:
    visits: dict[str, int] = run.context.setdefault("visits", {})
    visits[step_id] = visits.get(step_id, 0) + 1
    return visits[step_id]


def _since(run: RunState) -> datetime:
    return datetime.fromisoformat(run.since())


def exit_on_goal(p: Pass, scenario: LoadedScenario, runs: list[RunState]) -> list[RunState]:
    """Exit (reason ``goal``) the runs whose customer reached the goal since the trigger; the rest."""
    goal = scenario.definition.goal
    if goal is None or not runs:
        return runs
    start = min(_since(r) for r in runs)
    found = events_of(p.session, [r.customer_id for r in runs], goal.event, goal.where, start)
    keep = []
    for run in runs:
        if happened(found, run.customer_id, _since(run), None, besides=run.trigger_event()):
            run.finish(EXITED, p.now, "goal")
            p.report.exited += 1
        else:
            keep.append(run)
    return keep


def send(p: Pass, scenario: LoadedScenario, step_id: str, spec: SendSpec, runs: list[RunState]) -> None:
    """Write one delivery per run (pending, or suppressed by consent or a frequency cap) and move on.

    Runs whose goal was reached exit instead; runs inside quiet hours wait for their end at this step.
    """
    definition = scenario.definition
    runs = exit_on_goal(p, scenario, runs)
    ready = []
    for run in runs:
        until = quiet_until(p.now, definition.quiet_hours, p.zone_of(run.customer_id))
        if until is None:
            ready.append(run)
        else:
            run.sleep(until, step_id)
            p.report.deferred += 1
    if not ready:
        return
    cids = [r.customer_id for r in ready]
    purpose = CHANNEL_PURPOSE[spec.channel]
    allowed = set(cids) if purpose is None else consented(p.session, cids, Purpose(purpose), p.now)
    applicable = [c for c in definition.frequency_caps if c.channel == spec.channel]
    if applicable:
        hold_customers(p.session, cids)  # another worker sending to them now counts after us
    caps = [(c.max, recent_deliveries(p.session, cids, spec.channel, p.now - c.per)) for c in applicable]
    verdicts: dict[int, str | None] = {}
    for run in ready:
        cid = run.customer_id
        if cid not in allowed:
            verdicts[run.id] = f"no consent: {purpose}"
        elif any(counts.get(cid, 0) >= most for most, counts in caps):
            verdicts[run.id] = "frequency cap"
        else:
            verdicts[run.id] = None
            for _, counts in caps:
                counts[cid] = counts.get(cid, 0) + 1
    wanted = [r.customer_id for r in ready if verdicts[r.id] is None]
    recommended: dict[int, dict[str, Any]] = {}
    if spec.recommend is not None and wanted:
        seeds = _trigger_products(p.session, ready) if spec.recommend.similar_to_trigger else {}
        recommended = recommend_batch(p.session, spec.recommend, wanted, p.now, similar_to=seeds)
    rows = []
    for run in ready:
        error = verdicts[run.id]
        payload: dict[str, Any] = {"scenario": scenario.name}
        payload |= {
            k: v
            for k, v in (("template", spec.template), ("audience", spec.audience), ("slot", spec.slot))
            if v is not None
        }
        if "coupon" in run.context:
            payload["coupon"] = run.context["coupon"]
        if spec.recommend is not None:
            payload["recommend"] = recommended.get(
                run.customer_id, {"algorithm": spec.recommend.algorithm, "n": spec.recommend.n, "items": []}
            )
        rows.append(
            {
                "key": delivery_key(run, step_id, _visit(run, step_id)),
                "scenario_id": scenario.id,
                "run_id": run.id,
                "step": step_id,
                "customer_id": run.customer_id,
                "channel": spec.channel,
                "template": spec.template,
                "arm": run.arm,
                "payload": payload,
                "status": PENDING if error is None else SUPPRESSED,
                "attempts": 0,
                "error": error,
                "created_at": p.now,
                "due_at": p.now,
                "sent_at": None,
            }
        )
        run.step = definition.following(step_id)
    for status in insert_new(p.session, table_of(Delivery), rows, "status"):
        if status == PENDING:
            p.report.deliveries += 1
        else:
            p.report.suppressed += 1


def _trigger_products(session: Session, runs: Sequence[RunState]) -> dict[int, int]:
    """Per customer, the product id of the trigger event's product (``trigger_product_key``), when known."""
    skus = {r.customer_id: str(r.context["product"]) for r in runs if r.context.get("product")}
    ids = key_map(session.connection(), Product.sku, Product.id, skus.values())
    return {cid: ids[sku] for cid, sku in skus.items() if sku in ids}


def issue_coupons(p: Pass, scenario: LoadedScenario, spec: CouponSpec, runs: list[RunState]) -> None:
    """Give each run a unique code (``PREFIX-XXXXXXXX``) in ``coupons``, kept in the run's context."""
    conn = p.session.connection()
    waiting = list(runs)
    valid_until = p.now + spec.valid
    while waiting:
        codes = {
            r.id: f"{spec.prefix}-{''.join(secrets.choice(_CODE_ALPHABET) for _ in range(8))}"
            for r in waiting
        }
        rows = [
            {
                "code": codes[r.id],
                "campaign_id": scenario.campaign_id,
                "customer_id": r.customer_id,
                "description": spec.description,
                "valid_from": p.now,
                "valid_until": valid_until,
                "attributes": {"scenario": scenario.name, "run": r.id},
                "created_at": p.now,
            }
            for r in waiting
        ]
        insert_ignore(conn, table_of(Coupon), rows)
        owners = key_map(conn, Coupon.code, Coupon.customer_id, codes.values())
        issued = [r for r in waiting if owners.get(codes[r.id]) == r.customer_id]
        for run in issued:
            run.context["coupon"] = codes[run.id]
            run.context["coupon_valid_until"] = valid_until.isoformat()
        if spec.products and issued:
            product_ids = list(key_map(conn, Product.sku, Product.id, spec.products).values())
            coupon_ids = key_map(conn, Coupon.code, Coupon.id, [codes[r.id] for r in issued])
            links = [{"coupon_id": c, "product_id": pid} for c in coupon_ids.values() for pid in product_ids]
            insert_ignore(conn, table_of(CouponProduct), links)
        done = {r.id for r in issued}
        waiting = [r for r in waiting if r.id not in done]  # a code drawn twice: draw again


def change_attributes(p: Pass, runs: list[RunState], name: str, value: Any, *, tag: bool = False) -> None:
    """Set ``attributes[name] = value`` for each run's customer, or (``tag``) add ``value`` to their tags."""
    cids = sorted({r.customer_id for r in runs})
    updates = []
    for these in among(p.session, Customer.id, cids):
        rows = p.session.execute(select(Customer.id, Customer.attributes).where(these))
        for cid, attributes in rows:
            changed = dict(attributes or {})
            if tag:
                tags = list(changed.get("tags") or [])
                if value in tags:
                    continue
                changed["tags"] = [*tags, value]
            else:
                if name in changed and changed[name] == value:
                    continue
                changed[name] = value
            updates.append({"id": cid, "attributes": changed, "updated_at": p.now})
    if updates:
        p.session.execute(update(Customer), updates)
