from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import yaml
from click.testing import CliRunner

from kizuna.cli import _Group
from kizuna.cli.scenarios import scenarios
from kizuna.privacy.consent import record_consent
from kizuna.scenarios.definition import parse_scenario
from kizuna.scenarios.registry import get_scenario, list_scenarios
from kizuna.store.automation import Delivery, ScenarioRun
from kizuna.store.engine import Store
from kizuna.store.tables import Customer, Event

# The ``scenarios`` group under the same error handling as ``kizuna`` itself.
cli: click.Group = _Group("kizuna", commands={"scenarios": scenarios})
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

YAML = """\
name: hello
description: Greets new customers
trigger: {event: Signed Up}
steps:
  - id: mail
    send: {channel: email, template: hello}
  - wait: 2d
  - id: ads
    send: {channel: ads, audience: hello-audience}
"""


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["scenarios", *args])
    return result.exit_code, result.output


def test_add_from_file_show_export_and_replace(store: Store, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "hello.yaml"
    path.write_text(YAML, encoding="utf-8")
    code, out = _run("add", str(path), "--db", db_url)
    assert code == 0, out
    assert "scenario hello saved (active, version 1)" in out
    code, out = _run("add", str(path), "--db", db_url)
    assert code == 2 and "--replace" in out
    code, out = _run("add", str(path), "--replace", "--paused", "--db", db_url)
    assert code == 0 and "(paused, version 2)" in out
    assert get_scenario(store, "hello").status == "paused"

    code, out = _run("export", "hello", "--db", db_url)
    assert code == 0
    assert parse_scenario(yaml.safe_load(out)) == parse_scenario(yaml.safe_load(YAML))
    assert "where" not in out and "holdout" not in out  # defaults are left out
    exported = tmp_path / "exported.yaml"
    exported.write_text(out, encoding="utf-8")
    assert _run("add", str(exported), "--replace", "--db", db_url)[0] == 0
    assert get_scenario(store, "hello").version == 3

    code, out = _run("show", "hello", "--db", db_url)
    assert code == 0
    assert "template: hello" in out  # the YAML
    assert "▶ event Signed Up" in out and "send ads audience hello-audience" in out  # the diagram


def test_add_file_errors_name_the_file_and_place(store: Store, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(YAML.replace("wait: 2d", "wait: soon"), encoding="utf-8")
    code, out = _run("add", str(path), "--db", db_url)
    assert code == 2
    assert "bad.yaml" in out and "steps.1.wait" in out
    code, out = _run("add", "--db", db_url)
    assert code == 2 and "give a YAML file or --template" in out
    assert list_scenarios(store) == []


def test_add_from_template_with_parameters(store: Store, db_url: str) -> None:
    args = ["add", "--template", "lapsed-sale-dm", "--name", "lapsed-60", "--set", "days=60"]
    code, out = _run(*args, "--db", db_url)
    assert code == 0, out
    assert "segment no-purchase-60d created" in out and "scenario lapsed-60 saved from template" in out
    assert get_scenario(store, "lapsed-60").definition.description == (
        "Customers with no purchase in 60 days get a sale DM with a coupon."
    )
    code, out = _run("add", "--template", "lapsed-sale-dm", "--set", "days=never", "--db", db_url)
    assert code == 2 and "--set days: expected a whole number" in out
    code, out = _run("add", "--template", "nope", "--db", db_url)
    assert code == 1 and "no scenario template 'nope'" in out


def test_templates_in_english_and_japanese() -> None:
    code, out = _run("templates")
    assert code == 0 and "cart-abandonment" in out and "--set days=90" in out
    code, out = _run("templates", "--lang", "ja")
    assert code == 0 and "カート" in out


def test_list_pause_resume_and_remove(store: Store, db_url: str, tmp_path: Path) -> None:
    code, out = _run("list", "--db", db_url)
    assert code == 0 and "no scenarios yet" in out
    path = tmp_path / "hello.yaml"
    path.write_text(YAML, encoding="utf-8")
    _run("add", str(path), "--db", db_url)
    saved = get_scenario(store, "hello")
    with store.session() as s:
        customers = [Customer(external_id=f"c{n}") for n in range(3)]
        s.add_all(customers)
        s.flush()
        for n, (customer, status, step, reason) in enumerate(
            [
                (customers[0], "waiting", "step-2", None),
                (customers[1], "waiting", "step-2", None),
                (customers[2], "exited", None, "goal"),
            ]
        ):
            s.add(
                ScenarioRun(
                    scenario_id=saved.id,
                    customer_id=customer.id,
                    occurrence="once",
                    status=status,
                    step=step,
                    exit_reason=reason,
                    entered_at=NOW,
                    updated_at=NOW,
                )
            )
            s.add(
                Delivery(
                    key=f"hello:mail:{customer.id}:once",
                    scenario_id=saved.id,
                    step="mail",
                    customer_id=customer.id,
                    channel="email",
                    template="hello",
                    created_at=NOW,
                    due_at=NOW,
                )
            )
            assert n < 3
        s.commit()
    code, out = _run("list", "--db", db_url)
    assert code == 0
    row = next(line for line in out.splitlines() if "hello" in line)
    cells = [c.strip() for c in row.strip("│┃ ").split("│")]
    assert cells[:3] == ["hello", "active", "1"] and cells[-2:] == ["2", "3"]  # in progress, deliveries

    code, out = _run("show", "hello", "--db", db_url)
    assert "mail    send email template hello  (3 deliveries)" in out
    assert "step-2  wait 2d  (2 waiting)" in out
    assert "■ finished: goal 1" in out

    assert _run("pause", "hello", "--db", db_url) == (0, "scenario hello paused\n")
    assert get_scenario(store, "hello").status == "paused"
    assert _run("resume", "hello", "--db", db_url) == (0, "scenario hello active\n")
    assert get_scenario(store, "hello").status == "active"

    code, out = _run("remove", "hello", "--db", db_url)
    assert code == 2 and "2 runs in progress" in out
    code, out = _run("remove", "hello", "--force", "--db", db_url)
    assert code == 0 and "2 runs in progress dropped" in out
    assert list_scenarios(store) == []
    code, out = _run("pause", "hello", "--db", db_url)
    assert code == 1 and "no scenario named 'hello'" in out


def test_preview_text_json_and_file(store: Store, db_url: str, tmp_path: Path) -> None:
    with store.session() as s:
        people = [Customer(external_id=key) for key in ("ann", "ben")]
        s.add_all(people)
        s.flush()
        for n, customer in enumerate(people):
            s.add(
                Event(
                    message_id=f"e{n}",
                    type="track",
                    name="Signed Up",
                    customer_id=customer.id,
                    occurred_at=NOW - timedelta(days=n * 10 + 1),
                )
            )
        record_consent(s, people[0].id, "email", "granted", at=NOW - timedelta(days=5))
        s.commit()
    path = tmp_path / "hello.yaml"
    path.write_text(YAML, encoding="utf-8")
    at = ["--now", NOW.isoformat(), "--db", db_url]
    code, out = _run("preview", "--file", str(path), *at)
    assert code == 0, out
    assert "would enter: 1" in out  # ben signed up 11 days ago, before the 7-day lookback
    assert "ann (#" in out and "mail: send email template hello" in out
    assert "ads: send ads audience hello-audience" in out and "suppressed: no consent for ads" in out
    code, out = _run("preview", "--file", str(path), "--lookback", "14d", "--json", *at)
    assert code == 0
    data = json.loads(out)
    assert data["total"] == 2 and data["now"] == NOW.isoformat()
    by_key = {c["external_id"]: c for c in data["customers"]}
    assert by_key["ben"]["path"][0]["send"]["suppressed"] == "no consent for email"
    assert by_key["ann"]["path"][0]["send"]["suppressed"] is None
    code, out = _run("preview", "hello", *at)
    assert code == 1 and "no scenario named 'hello'" in out
    code, out = _run("preview", "--file", str(path), "--lookback", "soon", *at)
    assert code == 2 and "--lookback" in out
