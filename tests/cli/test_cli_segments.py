"""``kizuna segments``: add, list, count, show, members, rebuild, remove and builtins."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import yaml
from click.testing import CliRunner, Result

from kizuna.cli import _Group
from kizuna.cli.segments import segments
from kizuna.segments.builtin import BUILTINS
from kizuna.segments.membership import member_ids
from kizuna.segments.registry import get_segment, list_segments
from kizuna.store.engine import Store
from kizuna.store.tables import Customer, Order

cli: click.Group = _Group("kizuna", commands={"segments": segments})
AT = "2026-01-31T12:00:00+00:00"

FILE = """\
segments:
  - name: tokyo
    description: 東京都のお客様
    condition: {attribute: prefecture, eq: 東京都}
  - name: buyers
    condition: {measure: orders, gte: 1, within_days: 30}
"""


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["segments", *args])


def _people(store: Store) -> dict[str, int]:
    with store.session() as session:
        people = [
            Customer(external_id="c-1", name="青木 花子", prefecture="東京都"),
            Customer(external_id="c-2", name="馬場 太郎", prefecture="大阪府"),
        ]
        session.add_all(people)
        session.flush()
        session.add(
            Order(external_id="o-1", customer_id=people[1].id, ordered_at=datetime(2026, 1, 2, tzinfo=UTC))
        )
        session.commit()
        return {c.external_id: c.id for c in people}


def test_add_from_a_file_rebuild_and_look(store: Store, db_url: str, tmp_path: Path) -> None:
    ids = _people(store)
    path = tmp_path / "segments.yaml"
    path.write_text(FILE, encoding="utf-8")
    result = _run("add", "--file", str(path), "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "tokyo" in result.output and "buyers" in result.output
    assert [s.name for s in list_segments(store)] == ["buyers", "tokyo"]

    result = _run("rebuild", "--at", AT, "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "buyers" in result.output and "tokyo" in result.output
    assert member_ids(store, "tokyo") == {ids["c-1"]} and member_ids(store, "buyers") == {ids["c-2"]}

    result = _run("list", "--db", db_url)
    assert result.exit_code == 0 and "東京都のお客様" in result.output and "2026-01-31" in result.output

    result = _run("members", "tokyo", "--db", db_url)
    assert result.exit_code == 0 and "c-1" in result.output and "青木 花子" in result.output
    assert "c-2" not in result.output

    result = _run("show", "tokyo", "--db", db_url)
    assert result.exit_code == 0
    shown = yaml.safe_load(result.output)
    assert shown == {
        "name": "tokyo",
        "description": "東京都のお客様",
        "condition": {"attribute": "prefecture", "eq": "東京都"},
    }
    assert "# members: 1" in result.output

    # At the start of March the order of 2 January is outside the 30-day window.
    result = _run("count", "buyers", "--at", "2026-03-01", "--db", db_url)
    assert result.exit_code == 0
    assert "buyers: 0 match now; 1 stored members" in result.output


def test_add_inline_and_builtin_then_remove(store: Store, db_url: str) -> None:
    _people(store)
    result = _run("add", "osaka", "--condition", "{attribute: prefecture, eq: 大阪府}", "--db", db_url)
    assert result.exit_code == 0, result.output
    result = _run("add", "--builtin", "vip", "--db", db_url)
    assert result.exit_code == 0, result.output
    assert get_segment(store, "vip").description == BUILTINS["vip"].description
    result = _run("add", "mail", "--builtin", "email-reachable", "--description", "mail", "--db", db_url)
    assert result.exit_code == 0 and get_segment(store, "mail").description == "mail"
    result = _run("rebuild", "osaka", "--at", AT, "--db", db_url)
    assert result.exit_code == 0 and "osaka" in result.output
    result = _run("remove", "osaka", "--db", db_url)
    assert result.exit_code == 0
    assert [s.name for s in list_segments(store)] == ["mail", "vip"]


def test_mistakes_exit_with_a_message(store: Store, db_url: str, tmp_path: Path) -> None:
    result = _run("add", "x", "--db", db_url)
    assert result.exit_code == 2 and "exactly one of --file, --condition or --builtin" in result.output
    result = _run("add", "--condition", "{consent: email}", "--db", db_url)
    assert result.exit_code == 2 and "needs the segment's NAME" in result.output
    result = _run("add", "x", "--condition", "{consent: fax}", "--db", db_url)
    assert result.exit_code == 2 and "--condition: consent" in result.output
    result = _run("add", "bad name", "--condition", "{consent: email}", "--db", db_url)
    assert result.exit_code == 2 and "not valid" in result.output
    result = _run("add", "--builtin", "nope", "--db", db_url)
    assert result.exit_code == 2 and "use one of" in result.output
    path = tmp_path / "s.yaml"
    path.write_text(FILE, encoding="utf-8")
    result = _run("add", "other", "--file", str(path), "--db", db_url)
    assert result.exit_code == 2 and "no segment named 'other' in the file" in result.output
    result = _run("show", "nope", "--db", db_url)
    assert result.exit_code == 1 and "no segment named 'nope'" in result.output
    result = _run("rebuild", "--at", "yesterday", "--db", db_url)
    assert result.exit_code == 2 and "--at 'yesterday'" in result.output
    assert list_segments(store) == []


def test_empty_store_and_builtins(db_url: str) -> None:
    assert "no segments yet" in _run("list", "--db", db_url).output
    assert "no segments to rebuild" in _run("rebuild", "--db", db_url).output
    result = _run("builtins")
    assert result.exit_code == 0
    for name in BUILTINS:
        assert name in result.output
    assert "休眠顧客" in result.output
