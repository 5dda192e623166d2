"""Scenarios described for people: the trigger and steps in words, a small text diagram, and the counts of
runs waiting at each step, deliveries per step and exits per reason (``kizuna scenarios list`` and
``show``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kizuna.scenarios.definition import (
    BranchStep,
    CouponStep,
    DateTrigger,
    EventTrigger,
    ExitStep,
    ScenarioDefinition,
    ScheduleTrigger,
    SegmentTrigger,
    SendStep,
    SetAttributeStep,
    SplitStep,
    Step,
    TagStep,
    Trigger,
    WaitStep,
)
from kizuna.scenarios.durations import format_duration
from kizuna.scenarios.registry import IN_PROGRESS, SavedScenario
from kizuna.segments.conditions import condition_to_data
from kizuna.store.automation import Delivery, ScenarioRun


@dataclass(frozen=True)
class ScenarioStats:
    """What has happened in a scenario so far."""

    waiting: Counter[str] = field(default_factory=Counter)
    """Runs in progress, by the step they wait at."""
    deliveries: Counter[str] = field(default_factory=Counter)
    """Deliveries written, by step."""
    exits: Counter[str] = field(default_factory=Counter)
    """Finished runs, by exit reason (``done`` for runs that reached the end, ``control``, ``holdout``)."""

    @property
    def in_progress(self) -> int:
        """Runs still on their way."""
        return sum(self.waiting.values())

    @property
    def delivered(self) -> int:
        """Deliveries written in all."""
        return sum(self.deliveries.values())


def scenario_stats(session: Session, scenario_id: int) -> ScenarioStats:
    """Count the scenario's runs per waiting step, deliveries per step and finished runs per reason."""
    stats = ScenarioStats()
    runs = session.execute(
        select(ScenarioRun.status, ScenarioRun.step, ScenarioRun.exit_reason, func.count())
        .where(ScenarioRun.scenario_id == scenario_id)
        .group_by(ScenarioRun.status, ScenarioRun.step, ScenarioRun.exit_reason)
    )
    for status, step, reason, count in runs:
        if status in IN_PROGRESS:
            stats.waiting[step or "?"] += count
        else:
            stats.exits[reason or status] += count
    sent = session.execute(
        select(Delivery.step, func.count()).where(Delivery.scenario_id == scenario_id).group_by(Delivery.step)
    )
    for step, count in sent:
        stats.deliveries[step or "?"] += count
    return stats


def describe_trigger(trigger: Trigger) -> str:
    """The trigger in a few words: ``event Product Added unless Order Completed within 24h``."""
    if isinstance(trigger, EventTrigger):
        text = f"event {trigger.event}{_where(trigger.where)}"
        if trigger.unless is not None:
            text += f" unless {trigger.unless.event} within {format_duration(trigger.unless.within)}"
        return text
    if isinstance(trigger, SegmentTrigger):
        return f"entering segment {trigger.segment}"
    if isinstance(trigger, DateTrigger):
        spec = trigger.date
        offset = f" {spec.offset_days:+d}d" if spec.offset_days else ""
        return f"date {spec.source}{offset} at {spec.at.strftime('%H:%M')}"
    assert isinstance(trigger, ScheduleTrigger)
    spec_s = trigger.schedule
    at = f" at {spec_s.at.strftime('%H:%M')}" if spec_s.at is not None else ""
    audience = f"segment {spec_s.segment}" if spec_s.segment else "every customer"
    return f"every {format_duration(spec_s.every)}{at}, {audience}"


def describe_step(step: Step) -> str:
    """One step in a few words: ``send email template cart-reminder + 3 from blend``."""
    if isinstance(step, SendStep):
        send = step.send
        parts = [f"send {send.channel}"]
        parts += [f"{label} {value}" for label, value in _send_targets(step) if value is not None]
        if send.recommend is not None:
            similar = ", similar to the trigger's product" if send.recommend.similar_to_trigger else ""
            parts.append(f"+ {send.recommend.n} from {send.recommend.algorithm}{similar}")
        return " ".join(parts)
    if isinstance(step, WaitStep):
        wait = step.wait
        if wait.for_ is not None:
            return f"wait {format_duration(wait.for_)}"
        if wait.until_time is not None:
            return f"wait until {wait.until_time.strftime('%H:%M')}"
        timeout = format_duration(wait.timeout) if wait.timeout is not None else "?"
        return f"wait up to {timeout} for {wait.until_event}{_where(wait.where)}"
    if isinstance(step, BranchStep):
        return f"branch if {_compact(condition_to_data(step.branch.if_))}"
    if isinstance(step, SplitStep):
        return "split " + ", ".join(f"{a.arm} {a.weight:g}" for a in step.split)
    if isinstance(step, CouponStep):
        return f"coupon {step.coupon.prefix}-…, valid {format_duration(step.coupon.valid)}"
    if isinstance(step, SetAttributeStep):
        return f"set attribute {step.set_attribute.name} = {step.set_attribute.value!r}"
    if isinstance(step, TagStep):
        return f"tag {step.tag}"
    assert isinstance(step, ExitStep)
    return f"exit ({step.exit})"


def jumps(definition: ScenarioDefinition, step_id: str) -> str:
    """Where a step goes when that is not simply the next step: ``then → returning, else → first``."""
    step = definition.step(step_id)
    after = definition.following(step_id)
    if isinstance(step, ExitStep):
        return ""
    if isinstance(step, BranchStep):
        return f"then → {step.branch.then}, else → {step.branch.else_ or after or 'end'}"
    if isinstance(step, SplitStep):
        return ", ".join(f"{a.arm} → {a.next or after or 'end'}" for a in step.split)
    if isinstance(step, WaitStep) and step.wait.until_event is not None:
        on_event = step.wait.on_event or after or "end"
        return f"on event → {on_event}, on timeout → {step.wait.on_timeout or after or 'end'}"
    ids = definition.step_ids()
    index = ids.index(step_id)
    natural = ids[index + 1] if index + 1 < len(ids) else None
    if after != natural:
        return f"→ {after or 'end'}"
    return "→ end" if after is None else ""


def diagram(definition: ScenarioDefinition, stats: ScenarioStats | None = None) -> str:
    """The steps as lines of text, one per step, with runs waiting and deliveries per step when given."""
    stats = stats or ScenarioStats()
    ids = definition.step_ids()
    width = max(len(i) for i in ids)
    lines = [f"▶ {describe_trigger(definition.trigger)}"]
    for step_id, step in zip(ids, definition.steps, strict=True):
        counts = []
        if stats.waiting[step_id]:
            counts.append(f"{stats.waiting[step_id]} waiting")
        if stats.deliveries[step_id]:
            counts.append(f"{stats.deliveries[step_id]} deliveries")
        line = f"│ {step_id.ljust(width)}  {describe_step(step)}"
        route = jumps(definition, step_id)
        if route:
            line += f"  [{route}]"
        if counts:
            line += f"  ({', '.join(counts)})"
        lines.append(line)
    if stats.exits:
        ended = ", ".join(f"{reason} {count}" for reason, count in sorted(stats.exits.items()))
        lines.append(f"■ finished: {ended}")
    else:
        lines.append("■ end")
    return "\n".join(lines)


def summary_row(saved: SavedScenario, stats: ScenarioStats) -> dict[str, str]:
    """One line of ``kizuna scenarios list``."""
    return {
        "name": saved.name,
        "status": saved.status,
        "version": str(saved.version),
        "trigger": describe_trigger(saved.definition.trigger),
        "steps": str(len(saved.definition.steps)),
        "in progress": str(stats.in_progress),
        "deliveries": str(stats.delivered),
    }


def _send_targets(step: SendStep) -> list[tuple[str, str | None]]:
    send = step.send
    return [("template", send.template), ("audience", send.audience), ("slot", send.slot)]


def _where(where: Mapping[str, object]) -> str:
    if not where:
        return ""
    return " where " + ", ".join(f"{key}={value}" for key, value in where.items())


def _compact(data: object) -> str:
    """Condition data as one short flow-style line."""
    if isinstance(data, dict):
        return "{" + ", ".join(f"{key}: {_compact(value)}" for key, value in data.items()) + "}"
    if isinstance(data, list):
        return "[" + ", ".join(_compact(item) for item in data) + "]"
    return str(data)
