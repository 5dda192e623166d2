from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kizuna.errors import ConfigError, NotFoundError
from kizuna.scenarios.definition import parse_scenario
from kizuna.scenarios.registry import (
    get_scenario,
    list_scenarios,
    load_scenarios_yaml,
    remove_scenario,
    save_all,
    save_scenario,
    scenario_yaml,
    segments_named,
    set_status,
)
from kizuna.store.automation import Scenario, ScenarioRun, Segment
from kizuna.store.engine import Store
from kizuna.store.tables import Campaign, Customer

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

WELCOME = {
    "name": "welcome",
    "description": "Say hello",
    "trigger": {"segment": "new"},
    "steps": [
        {"branch": {"if": {"not": {"segment": "vip"}}, "then": "mail"}},
        {"exit": "vip"},
        {"id": "mail", "send": {"channel": "email", "template": "hello"}},
    ],
}


def _segments(store: Store, *names: str) -> None:
    with store.session() as s:
        s.add_all(Segment(name=n, definition={"trial_only": True}) for n in names)
        s.commit()


def test_segments_named_finds_trigger_schedule_and_nested_branch_segments() -> None:
    assert segments_named(parse_scenario(WELCOME)) == {"new", "vip"}
    scheduled = parse_scenario(
        {
            "name": "news",
            "trigger": {"schedule": {"every": "1w", "segment": "subscribers"}},
            "steps": [{"send": {"channel": "email", "template": "news"}}],
        }
    )
    assert segments_named(scheduled) == {"subscribers"}


def test_save_refuses_unknown_segments_and_names_them(store: Store) -> None:
    _segments(store, "new")
    with pytest.raises(ConfigError, match=r"scenario 'welcome' names segment 'vip', which do not exist"):
        save_scenario(store, parse_scenario(WELCOME), source="welcome.yaml")
    with store.session() as s:
        assert s.scalars(select(Scenario)).all() == []


def test_save_get_list_and_campaign(store: Store) -> None:
    _segments(store, "new", "vip")
    saved = save_scenario(store, parse_scenario(WELCOME))
    assert (saved.name, saved.status, saved.version) == ("welcome", "active", 1)
    again = get_scenario(store, "welcome")
    assert again.definition == parse_scenario(WELCOME)
    with store.session() as s:
        campaign = s.get(Campaign, saved.campaign_id)
        assert campaign is not None
        assert (campaign.external_id, campaign.kind, campaign.name, campaign.description) == (
            "scenario:welcome",
            "scenario",
            "welcome",
            "Say hello",
        )
    assert [x.name for x in list_scenarios(store)] == ["welcome"]
    assert list_scenarios(store, status="paused") == []
    with pytest.raises(NotFoundError, match=r"no scenario named 'other'.*known: welcome"):
        get_scenario(store, "other")


def test_replace_bumps_version_and_keeps_the_campaign(store: Store) -> None:
    _segments(store, "new", "vip")
    first = save_scenario(store, parse_scenario(WELCOME))
    with pytest.raises(ConfigError, match=r"exists \(version 1\).*--replace"):
        save_scenario(store, parse_scenario(WELCOME))
    changed = parse_scenario(WELCOME | {"description": "Say hello again"})
    second = save_scenario(store, changed, replace=True, status="paused")
    assert (second.version, second.status, second.campaign_id) == (2, "paused", first.campaign_id)
    assert get_scenario(store, "welcome").definition.description == "Say hello again"
    third = save_scenario(store, changed, replace=True)
    assert third.version == 3
    with store.session() as s:
        assert len(s.scalars(select(Campaign)).all()) == 1


def test_pause_and_resume(store: Store) -> None:
    _segments(store, "new", "vip")
    save_scenario(store, parse_scenario(WELCOME))
    assert set_status(store, "welcome", "paused").status == "paused"
    assert get_scenario(store, "welcome").status == "paused"
    assert set_status(store, "welcome", "active").status == "active"
    with pytest.raises(ConfigError, match="active or paused"):
        set_status(store, "welcome", "stopped")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        set_status(store, "nope", "paused")


def test_remove_refuses_runs_in_progress_unless_forced(store: Store) -> None:
    _segments(store, "new", "vip")
    saved = save_scenario(store, parse_scenario(WELCOME))
    with store.session() as s:
        customer = Customer(external_id="c1")
        s.add(customer)
        s.flush()
        s.add(
            ScenarioRun(
                scenario_id=saved.id,
                customer_id=customer.id,
                occurrence="once",
                status="waiting",
                step="mail",
                entered_at=NOW,
                updated_at=NOW,
            )
        )
        s.commit()
    with pytest.raises(ConfigError, match="1 run in progress"):
        remove_scenario(store, "welcome")
    assert get_scenario(store, "welcome").version == 1
    assert remove_scenario(store, "welcome", force=True) == 1
    with store.session() as s:
        assert s.scalars(select(Scenario)).all() == []
        assert s.scalars(select(ScenarioRun)).all() == []
        assert s.scalars(select(Campaign.external_id)).all() == ["scenario:welcome"]


def test_remove_without_runs(store: Store) -> None:
    _segments(store, "new", "vip")
    save_scenario(store, parse_scenario(WELCOME))
    assert remove_scenario(store, "welcome") == 0
    assert list_scenarios(store) == []


def test_load_yaml_list_and_round_trip(tmp_path: Path) -> None:
    one = scenario_yaml(parse_scenario(WELCOME))
    path = tmp_path / "one.yaml"
    path.write_text(one, encoding="utf-8")
    assert load_scenarios_yaml(path) == [parse_scenario(WELCOME)]
    many = tmp_path / "many.yaml"
    indented = "\n".join("    " + line for line in one.splitlines())
    other = one.replace("name: welcome", "name: welcome-2")
    indented_other = "\n".join("    " + line for line in other.splitlines())
    many.write_text(f"scenarios:\n  -\n{indented}\n  -\n{indented_other}\n", encoding="utf-8")
    assert [d.name for d in load_scenarios_yaml(many)] == ["welcome", "welcome-2"]


def test_load_yaml_errors_name_file_and_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "scenarios:\n"
        "  - name: ok\n    trigger: {event: Order Completed}\n"
        "    steps: [{send: {channel: email, template: t}}]\n"
        "  - name: broken\n    trigger: {event: Order Completed}\n"
        "    steps: [{send: {channel: fax, template: t}}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_scenarios_yaml(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, scenarios.1: ")
    assert "steps.0.send.channel" in message
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ntrigger: {event: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken.yaml, line \d+, column \d+: not valid YAML"):
        load_scenarios_yaml(broken)
    twice = tmp_path / "twice.yaml"
    item = "  - {name: a, trigger: {event: E}, steps: [{exit: done}]}\n"
    twice.write_text("scenarios:\n" + item + item, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"twice\.yaml: scenario names must be unique in a file: a"):
        load_scenarios_yaml(twice)


def test_save_all_is_all_or_nothing(store: Store) -> None:
    _segments(store, "new")
    fine = parse_scenario({"name": "fine", "trigger": {"event": "E"}, "steps": [{"exit": "done"}]})
    with pytest.raises(ConfigError, match=r"f\.yaml: scenario 'welcome'"):
        save_all(store, [fine, parse_scenario(WELCOME)], source="f.yaml")
    assert list_scenarios(store) == []
    _segments(store, "vip")
    saved = save_all(store, [fine, parse_scenario(WELCOME)], status="paused")
    assert [(s.name, s.status) for s in saved] == [("fine", "paused"), ("welcome", "paused")]
