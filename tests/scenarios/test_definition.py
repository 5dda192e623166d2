from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import yaml

from kizuna.errors import ConfigError
from kizuna.scenarios.definition import (
    BranchStep,
    DateTrigger,
    EventTrigger,
    ReentryAfter,
    SendStep,
    SplitStep,
    WaitStep,
    parse_scenario,
    scenario_to_data,
)
from kizuna.segments.conditions import condition_to_data

CART = """
name: cart-reminder
trigger:
  event: Product Added
  unless: {event: Order Completed, within: 24h}
goal: {event: Order Completed}
reentry: {after: 7d}
control: 0.1
quiet_hours: {start: "21:00", end: "09:00"}
frequency_caps: [{channel: email, max: 2, per: 7d}]
steps:
  - send: {channel: email, template: cart-reminder, recommend: {algorithm: blend, n: 3}}
  - wait: 2d
  - branch: {if: {consent: ads}, then: audience}
  - exit: no-ads-consent
  - id: audience
    send: {channel: ads, audience: cart-abandoners}
"""


def _base(**steps: Any) -> dict[str, Any]:
    return {"name": "s", "trigger": {"event": "Page Viewed"}, **steps}


def test_a_scenario_parses_with_its_policies_and_round_trips() -> None:
    scenario = parse_scenario(yaml.safe_load(CART))
    assert isinstance(scenario.trigger, EventTrigger)
    assert scenario.trigger.unless is not None and scenario.trigger.unless.within == timedelta(hours=24)
    assert isinstance(scenario.reentry, ReentryAfter) and scenario.reentry.after == timedelta(days=7)
    assert scenario.quiet_hours is not None and scenario.quiet_hours.start == time(21, 0)
    assert isinstance(scenario.steps[1], WaitStep) and scenario.steps[1].wait.for_ == timedelta(days=2)
    assert isinstance(scenario.steps[2], BranchStep)
    assert parse_scenario(scenario_to_data(scenario)) == scenario


def test_steps_get_ids_by_position_and_know_where_they_lead() -> None:
    scenario = parse_scenario(yaml.safe_load(CART))
    assert scenario.step_ids() == ["step-1", "step-2", "step-3", "step-4", "audience"]
    assert scenario.successors("step-3") == ["audience", "step-4"]
    assert scenario.successors("step-4") == []  # an exit leads nowhere
    assert scenario.following("audience") is None
    assert isinstance(scenario.step("audience"), SendStep)


def test_split_arms_lead_to_their_own_steps() -> None:
    scenario = parse_scenario(
        _base(
            steps=[
                {"split": [{"arm": "A", "weight": 1, "next": "a"}, {"arm": "B", "weight": 1}]},
                {"id": "b", "send": {"channel": "email", "template": "b"}, "next": "end"},
                {"id": "a", "send": {"channel": "email", "template": "a"}},
                {"id": "end", "exit": "done"},
            ]
        )
    )
    assert isinstance(scenario.steps[0], SplitStep)
    assert scenario.successors("step-1") == ["a", "b"]


def test_date_triggers_default_to_ten_in_the_morning() -> None:
    scenario = parse_scenario(
        {"name": "birthday", "trigger": {"date": {"source": "birthday"}}, "steps": [{"tag": "birthday"}]}
    )
    assert isinstance(scenario.trigger, DateTrigger)
    assert scenario.trigger.date.at == time(10, 0) and scenario.trigger.date.offset_days == 0


@pytest.mark.parametrize(
    ("data", "place", "says"),
    [
        (_base(steps=[{"wait": "soon"}]), "steps.0.wait.for", "duration such as"),
        (_base(steps=[{"send": {"channel": "email"}}]), "steps.0.send", "needs a template"),
        (_base(steps=[{"send": {"channel": "ads"}}]), "steps.0.send", "needs an audience"),
        (
            _base(steps=[{"send": {"channel": "fax", "template": "t"}}]),
            "steps.0.send.channel",
            "'direct_mail'",
        ),
        (_base(steps=[{"wait": {"until_event": "Order Completed"}}]), "steps.0.wait", "needs a timeout"),
        (_base(steps=[{"jump": "x"}]), "steps.0", "exactly one of: wait, branch"),
        (_base(steps=[{"branch": {"if": {"colour": "red"}, "then": "x"}}]), "steps.0.branch.if", "all, any"),
        ({"name": "s", "trigger": {"click": "x"}, "steps": [{"exit": "x"}]}, "trigger", "event, segment"),
        (_base(steps=[{"tag": "t", "next": "nowhere"}]), "(top)", "'nowhere', which is no step"),
        (_base(steps=[{"id": "a", "tag": "t"}, {"id": "a", "tag": "u"}]), "(top)", "unique: a"),
        (_base(steps=[{"id": "a", "tag": "t", "next": "a"}]), "(top)", "a → a loop without a wait"),
        (_base(steps=[], control=0.5), "steps", "at least 1"),
        (_base(steps=[{"tag": "t"}], control=0.95), "control", "less than or equal to 0.9"),
        ({"name": "Bad Name", "trigger": {"event": "x"}, "steps": [{"tag": "t"}]}, "name", "pattern"),
        (
            {"name": "s", "trigger": {"schedule": {"every": "30m"}}, "steps": [{"tag": "t"}]},
            "trigger.schedule",
            "at most once an hour",
        ),
    ],
)
def test_bad_scenarios_name_the_place_and_what_was_expected(data: Any, place: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_scenario(data, "cart.yaml")
    message = str(caught.value)
    assert message.startswith("cart.yaml: ")
    assert f": {place}: " in message
    assert says in message


def test_a_loop_through_a_wait_is_allowed() -> None:
    scenario = parse_scenario(
        _base(
            steps=[
                {"id": "nudge", "send": {"channel": "web", "slot": "top"}},
                {"wait": "7d", "next": "nudge"},
            ]
        )
    )
    assert scenario.successors("step-2") == ["nudge"]


def test_something_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_scenario(["name", "s"], "x.yaml")


def test_a_branch_condition_may_hold_an_unquoted_date() -> None:
    data = yaml.safe_load(
        "name: s\ntrigger: {event: Go}\nsteps:\n"
        "  - branch: {if: {attribute: birth_date, gte: 1990-01-01}, then: mail}\n"
        "  - exit: older\n"
        "  - {id: mail, tag: younger}\n"
    )
    step = parse_scenario(data).steps[0]
    assert isinstance(step, BranchStep)
    assert condition_to_data(step.branch.if_) == {"attribute": "birth_date", "gte": "1990-01-01"}
