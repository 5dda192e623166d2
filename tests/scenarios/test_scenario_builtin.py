from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kizuna.errors import ConfigError, NotFoundError
from kizuna.scenarios.builtin import (
    Template,
    add_from_template,
    instantiate,
    list_templates,
    load_template,
    parse_assignments,
    template_names,
)
from kizuna.scenarios.definition import (
    BranchStep,
    DateTrigger,
    EventTrigger,
    ScheduleTrigger,
    SegmentTrigger,
    SendStep,
)
from kizuna.scenarios.registry import get_scenario, segments_named
from kizuna.store.automation import Segment
from kizuna.store.engine import Store


def test_there_are_seven_templates_each_with_both_languages() -> None:
    assert len(template_names()) == 7
    for template in list_templates():
        assert template.description.en and template.description.ja
        assert any(ord(ch) > 0x3000 for ch in template.description.ja)  # written in Japanese
        for spec in template.parameters.values():
            assert spec.description


@pytest.mark.parametrize("name", template_names())
def test_every_template_validates_and_brings_its_segments(name: str) -> None:
    instance = instantiate(load_template(name))
    assert instance.definition.name == name
    assert instance.definition.description
    # Every segment the scenario names is one the template brings.
    assert segments_named(instance.definition) <= {s.name for s in instance.segments}


def test_template_shapes_follow_their_purpose() -> None:
    coupon = instantiate(load_template("first-order-coupon")).definition
    assert isinstance(coupon.trigger, SegmentTrigger) and coupon.control == 0.1
    assert [s.kind for s in coupon.steps] == ["coupon", "send"]
    cart = instantiate(load_template("cart-abandonment")).definition
    assert isinstance(cart.trigger, EventTrigger) and cart.trigger.unless is not None
    assert cart.trigger.unless.within == timedelta(hours=24)
    assert cart.quiet_hours is not None
    news = instantiate(load_template("new-product-news")).definition
    assert isinstance(news.trigger, ScheduleTrigger)
    repeat = instantiate(load_template("repeat-purchase")).definition
    assert isinstance(repeat.trigger, DateTrigger)
    assert (repeat.trigger.date.source, repeat.trigger.date.offset_days) == ("expected_reorder", -3)
    flyer = instantiate(load_template("shipment-flyer")).definition
    [send] = flyer.steps
    assert isinstance(send, SendStep) and send.send.recommend is not None
    assert (send.send.channel, send.send.template, send.send.recommend.similar_to_trigger) == (
        "direct_mail",
        "shipment-flyer",
        True,
    )
    visit = instantiate(load_template("first-or-returning-visit")).definition
    assert isinstance(visit.steps[0], BranchStep)
    slots = [(s.send.slot, s.send.template) for s in visit.steps if isinstance(s, SendStep)]
    assert slots == [("home-hero", "first-visit"), ("home-hero", "returning")]


def test_parameters_are_substituted_as_typed_data() -> None:
    template = load_template("lapsed-sale-dm")
    instance = instantiate(template, name="lapsed-60", values=parse_assignments(["days=60"]))
    assert instance.definition.name == "lapsed-60"
    assert instance.definition.trigger == SegmentTrigger(segment="no-purchase-60d")
    [segment] = instance.segments
    assert segment.name == "no-purchase-60d"
    assert segment.condition.model_dump()["gte"] == 60  # a number, not the text "60"
    default = instantiate(template)
    assert default.segments[0].name == "no-purchase-90d"


def test_bad_parameters_are_refused() -> None:
    template = load_template("lapsed-sale-dm")
    with pytest.raises(ConfigError, match=r"unknown parameter dayz.*its parameters: days"):
        instantiate(template, values={"dayz": "60"})
    with pytest.raises(ConfigError, match="--set days: expected a whole number, got 'soon'"):
        instantiate(template, values={"days": "soon"})
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_assignments(["days"])
    # A value that is only data still has to make a valid scenario.
    with pytest.raises(ConfigError, match=r"template 'lapsed-sale-dm'.*coupon\.prefix"):
        instantiate(template, values={"coupon_prefix": "lower case"})
    with pytest.raises(NotFoundError, match="no scenario template 'nope'"):
        load_template("nope")


def test_placeholders_stay_data_and_must_be_declared() -> None:
    template = Template.model_validate(
        {
            "name": "t",
            "description": {"en": "x", "ja": "エックス"},
            "parameters": {"tpl": {"default": "a", "description": "d"}},
            "scenario": {
                "name": "t",
                "trigger": {"event": "E"},
                "steps": [{"send": {"channel": "email", "template": "${tpl}"}}],
            },
        }
    )
    code = "{{ __import__('os').system('true') }}"
    [step] = instantiate(template, values={"tpl": code}).definition.steps
    assert isinstance(step, SendStep) and step.send.template == code
    broken = template.model_copy(update={"parameters": {}})
    with pytest.raises(ConfigError, match=r"scenario.steps.0.send.template: \$\{tpl\} is not one"):
        instantiate(broken)


@pytest.mark.parametrize("name", template_names())
def test_every_template_adds_into_a_store(store: Store, name: str) -> None:
    added = add_from_template(store, name)
    expected = {s.name for s in instantiate(load_template(name)).segments}
    assert set(added.created_segments) == expected
    saved = get_scenario(store, name)
    assert (saved.version, saved.status) == (1, "active")
    again = add_from_template(store, name, replace=True, status="paused")
    assert (again.scenario.version, again.scenario.status, again.created_segments) == (2, "paused", [])


def test_existing_segments_are_kept(store: Store) -> None:
    with store.session() as s:
        s.add(Segment(name="trial-only", definition={"trial_only": False}))
        s.commit()
    added = add_from_template(store, "first-order-coupon", name="coupon-2")
    assert added.created_segments == []
    with store.session() as s:
        assert s.scalars(select(Segment.definition)).all() == [{"trial_only": False}]
