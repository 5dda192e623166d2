"""Moving a batch of runs from their current step until each waits, exits or ends.

The batch moves in rounds: the runs standing at the same step of the same scenario are handled together (one
condition query per branch, one insert per send, one update per attribute), then each goes on to its next
step. Definitions cannot loop without a wait, so a run takes at most as many steps as its scenario has before
it stops. The caller commits the batch's runs and actions in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kizuna.scenarios.assign import choose_arm
from kizuna.scenarios.definition import (
    BranchStep,
    CouponStep,
    EventTrigger,
    ExitStep,
    SendStep,
    SetAttributeStep,
    SplitStep,
    TagStep,
    WaitStep,
)
from kizuna.scenarios.engine.actions import Pass, change_attributes, issue_coupons, send
from kizuna.scenarios.engine.localtime import next_local_time, timezones
from kizuna.scenarios.engine.policies import events_of, happened
from kizuna.scenarios.engine.state import DONE, EXITED, WAITING, LoadedScenario, RunReport, RunState
from kizuna.segments.compiler import matching_ids
from kizuna.store.bulk import insert_ignore
from kizuna.store.tables import CampaignMember, table_of

#: The smallest wait: a run that waits never wakes within the pass that put it to sleep.
TICK = timedelta(microseconds=1)


def advance(
    session: Session,
    scenarios: dict[int, LoadedScenario],
    runs: list[RunState],
    *,
    now: datetime,
    report: RunReport | None = None,
) -> RunReport:
    """Wake ``runs`` (due, or woken by an event) and move each as far as it goes; the caller saves them."""
    report = report if report is not None else RunReport()
    p = Pass(session, now, report, timezones(session, [r.customer_id for r in runs]))
    live = [r for r in runs if r.status == WAITING and r.scenario_id in scenarios]
    _wake(p, scenarios, live)
    moving = [r for r in live if r.moving]
    report.advanced += len(moving)
    rounds = 0
    while moving:
        rounds += 1
        groups: dict[tuple[int, str], list[RunState]] = defaultdict(list)
        for run in moving:
            if run.step is None:
                run.finish(DONE, now)
                report.done += 1
            else:
                groups[(run.scenario_id, run.step)].append(run)
        for (sid, step_id), group in groups.items():
            scenario = scenarios[sid]
            if rounds > len(scenario.definition.steps) + 1:
                raise RuntimeError(f"scenario {scenario.name!r} does not stop at a wait; check its steps")
            _step(p, scenario, step_id, group)
        moving = [r for r in moving if r.moving]
    return report


def _wake(p: Pass, scenarios: dict[int, LoadedScenario], runs: list[RunState]) -> None:
    """Resolve why each run was waiting: an ``unless`` window or an ``until_event`` that timed out."""
    by_kind: dict[tuple[int, str], list[RunState]] = defaultdict(list)
    for run in runs:
        run.moving = True
        if run.context.get("phase") == "unless":
            by_kind[(run.scenario_id, "unless")].append(run)
        elif run.waiting_for is not None:
            by_kind[(run.scenario_id, "event")].append(run)
    for (sid, kind), group in by_kind.items():
        definition = scenarios[sid].definition
        if kind == "unless":
            trigger = definition.trigger
            assert isinstance(trigger, EventTrigger) and trigger.unless is not None
            unless = trigger.unless
            start = min(datetime.fromisoformat(r.since()) for r in group)
            found = events_of(p.session, [r.customer_id for r in group], unless.event, unless.where, start)
            for run in group:
                since = datetime.fromisoformat(run.since())
                run.context.pop("phase")
                run.waiting_for = None
                if happened(
                    found, run.customer_id, since, since + unless.within, besides=run.trigger_event()
                ):
                    run.finish(EXITED, p.now, "unless")
                    p.report.exited += 1
            continue
        for run in group:
            assert run.step is not None
            step = definition.step(run.step)
            assert isinstance(step, WaitStep) and step.wait.until_event is not None
            started = datetime.fromisoformat(run.context.pop("waiting_since", run.since()))
            found = events_of(p.session, [run.customer_id], step.wait.until_event, step.wait.where, started)
            came = happened(found, run.customer_id, started, None)
            run.step = route_after_event(definition.following(run.step), step, came=came)
            run.waiting_for = None


def route_after_event(following: str | None, step: WaitStep, *, came: bool) -> str | None:
    """Where a run goes after an ``until_event`` wait: ``on_event`` or ``on_timeout``, else the next step."""
    target = step.wait.on_event if came else step.wait.on_timeout
    return target or following


def _step(p: Pass, scenario: LoadedScenario, step_id: str, runs: list[RunState]) -> None:
    definition = scenario.definition
    step = definition.step(step_id)
    following = definition.following(step_id)
    if isinstance(step, WaitStep):
        _wait(p, step, step_id, following, runs)
    elif isinstance(step, BranchStep):
        _branch(p, step, following, runs)
    elif isinstance(step, SplitStep):
        _split(p, scenario, step, step_id, following, runs)
    elif isinstance(step, SendStep):
        send(p, scenario, step_id, step.send, runs)
    elif isinstance(step, CouponStep):
        issue_coupons(p, scenario, step.coupon, runs)
        _go(runs, following)
    elif isinstance(step, SetAttributeStep):
        change_attributes(p, runs, step.set_attribute.name, step.set_attribute.value)
        _go(runs, following)
    elif isinstance(step, TagStep):
        change_attributes(p, runs, "tags", step.tag, tag=True)
        _go(runs, following)
    else:
        assert isinstance(step, ExitStep)
        for run in runs:
            run.finish(EXITED, p.now, step.exit)
        p.report.exited += len(runs)


def _go(runs: list[RunState], target: str | None) -> None:
    for run in runs:
        run.step = target


def _wait(p: Pass, step: WaitStep, step_id: str, following: str | None, runs: list[RunState]) -> None:
    spec = step.wait
    for run in runs:
        if spec.for_ is not None:
            run.sleep(p.now + max(spec.for_, TICK), following)
        elif spec.until_time is not None:
            at = next_local_time(p.now, spec.until_time, p.zone_of(run.customer_id))
            run.sleep(max(at, p.now + TICK), following)
        else:
            assert spec.until_event is not None and spec.timeout is not None
            run.context["waiting_since"] = p.now.isoformat()
            run.sleep(p.now + max(spec.timeout, TICK), step_id, waiting_for=spec.until_event)


def _branch(p: Pass, step: BranchStep, following: str | None, runs: list[RunState]) -> None:
    conn = p.session.connection()
    cids = sorted({r.customer_id for r in runs})
    matched = matching_ids(conn, step.branch.if_, now=p.now, resolve=p.segments(), customer_ids=cids)
    for run in runs:
        run.step = step.branch.then if run.customer_id in matched else (step.branch.else_ or following)


def _split(
    p: Pass,
    scenario: LoadedScenario,
    step: SplitStep,
    step_id: str,
    following: str | None,
    runs: list[RunState],
) -> None:
    weights = [(arm.arm, arm.weight) for arm in step.split]
    targets = {arm.arm: arm.next or following for arm in step.split}
    members = []
    for run in runs:
        run.arm = choose_arm(scenario.name, step_id, run.customer_id, weights)
        run.step = targets[run.arm]
        members.append(
            {
                "campaign_id": scenario.campaign_id,
                "customer_id": run.customer_id,
                "arm": run.arm,
                "is_control": False,
                "assigned_at": p.now,
            }
        )
    if scenario.campaign_id is not None:
        members = list({m["customer_id"]: m for m in members}.values())  # one row per customer a statement
        insert_ignore(
            p.session.connection(),
            table_of(CampaignMember),
            members,
            update=["arm"],
            conflict=["campaign_id", "customer_id"],
        )
