"""Entering customers into a scenario: the re-entry policy, the holdout and control group, the first step.

:func:`enter` is idempotent: a run's ``(scenario, customer, occurrence)`` is unique and rows go in with
``INSERT ... ON CONFLICT DO NOTHING``, so the same trigger read twice (after a crash, or by the window the
intake re-reads) enters nobody twice. Control and holdout customers get a finished run with that status and a
``campaign_members`` row (``is_control``), so uplift can be measured; they are never contacted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.scenarios.assign import in_control, in_holdout
from kizuna.scenarios.definition import EventTrigger, ReentryAfter
from kizuna.scenarios.engine.state import CONTROL, HOLDOUT, WAITING, LoadedScenario, RunReport
from kizuna.store.automation import ScenarioRun
from kizuna.store.bulk import among, chunked, insert_new
from kizuna.store.tables import CampaignMember, table_of

#: The occurrence of every run of a scenario that a customer may enter only once.
ONCE = "once"


@dataclass
class _History:
    occurrences: set[str]
    in_progress: bool = False
    last_entered: datetime | None = None


def _history(session: Session, scenario_id: int, customer_ids: Sequence[int]) -> dict[int, _History]:
    found: dict[int, _History] = {}
    for these in among(session, ScenarioRun.customer_id, customer_ids):
        rows = session.execute(
            select(
                ScenarioRun.customer_id, ScenarioRun.occurrence, ScenarioRun.status, ScenarioRun.entered_at
            ).where(ScenarioRun.scenario_id == scenario_id, these)
        )
        for cid, occurrence, status, entered_at in rows:
            item = found.setdefault(cid, _History(set()))
            item.occurrences.add(occurrence)
            item.in_progress |= status == WAITING
            if item.last_entered is None or entered_at > item.last_entered:
                item.last_entered = entered_at
    return found


def _may_enter(history: _History | None, occurrence: str, reentry: Any, now: datetime) -> bool:
    if history is None:
        return True
    if occurrence in history.occurrences or reentry == "never" or history.in_progress:
        return False
    if isinstance(reentry, ReentryAfter) and history.last_entered is not None:
        return history.last_entered + reentry.after <= now
    return True


def enter(
    session: Session,
    scenario: LoadedScenario,
    customer_ids: Sequence[int],
    *,
    now: datetime,
    occurrence: str | None = None,
    occurrences: Sequence[str] | None = None,
    context: Mapping[str, Any] | None = None,
    contexts: Sequence[Mapping[str, Any]] | None = None,
    report: RunReport | None = None,
) -> RunReport:
    """Enter ``customer_ids`` into ``scenario``; returns (and adds to ``report``) who entered how.

    ``occurrence`` (one for all) or ``occurrences`` (one per customer) tell entries apart: the trigger's event
    id, segment stay, date or schedule tick. ``context``/``contexts`` are kept on the run (``since``: when the
    trigger happened, ISO; default ``now``). A customer named twice enters once (the first wins). Entered runs
    wait with ``wake_at = now``, so the next due-run batch takes their first step; an event trigger with
    ``unless`` waits for that event instead, until the window closes.
    """
    report = report if report is not None else RunReport()
    definition = scenario.definition
    reentry = definition.reentry
    history = _history(session, scenario.id, customer_ids)
    seen: set[int] = set()
    runs: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    first = definition.step_ids()[0]
    unless = definition.trigger.unless if isinstance(definition.trigger, EventTrigger) else None
    for index, cid in enumerate(customer_ids):
        if cid in seen:
            continue
        seen.add(cid)
        occ = ONCE if reentry == "never" else (occurrences[index] if occurrences else occurrence or ONCE)
        if not _may_enter(history.get(cid), occ, reentry, now):
            continue
        ctx: dict[str, Any] = {**(context or {}), **(contexts[index] if contexts else {})}
        ctx.setdefault("since", now.isoformat())
        row: dict[str, Any] = {
            "scenario_id": scenario.id,
            "customer_id": cid,
            "occurrence": occ,
            "status": WAITING,
            "step": first,
            "arm": None,
            "wake_at": now,
            "waiting_for": None,
            "context": ctx,
            "entered_at": now,
            "updated_at": now,
            "finished_at": None,
            "exit_reason": None,
        }
        arm: str | None = None
        if definition.holdout and in_holdout(cid):
            row |= {"status": HOLDOUT, "step": None, "wake_at": None, "finished_at": now}
            arm = HOLDOUT
        elif in_control(scenario.name, cid, definition.control):
            row |= {"status": CONTROL, "step": None, "wake_at": None, "finished_at": now}
            arm = CONTROL
        elif unless is not None:
            ctx["phase"] = "unless"
            since = datetime.fromisoformat(ctx["since"])
            row |= {"waiting_for": unless.event, "wake_at": since + unless.within}
        runs.append(row)
        members.append(
            {
                "campaign_id": scenario.campaign_id,
                "customer_id": cid,
                "arm": arm,
                "is_control": arm is not None,
                "assigned_at": now,
                "outcome": {},
            }
        )
    for chunk in chunked(runs, 5_000):
        for status in insert_new(session, table_of(ScenarioRun), chunk, "status"):
            if status == HOLDOUT:
                report.holdout += 1
            elif status == CONTROL:
                report.control += 1
            else:
                report.entered += 1
    if scenario.campaign_id is not None:
        for chunk in chunked(members, 5_000):
            insert_new(session, table_of(CampaignMember), chunk, "id")
    return report
