"""``kizuna dm``: render a scenario's batch, list, approve and preview it, and refuse bad options."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "channels" / "dm"))
from dm_seed import T0, configure, customer, delivery

from kizuna.cli import _Group
from kizuna.cli.dm import dm
from kizuna.store import Store
from kizuna.store.automation import Scenario

cli: click.Group = _Group("kizuna", commands={"dm": dm})


def test_render_list_approve_and_preview(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch)
    with store.session() as session, session.begin():
        row = Scenario(name="lapsed-sale-dm", definition={}, status="active", created_at=T0, updated_at=T0)
        session.add(row)
        session.flush()
        sid = row.id
    for _ in range(2):
        delivery(store, customer(store), scenario_id=sid)
    out = tmp_path / "march"
    runner = CliRunner()
    result = runner.invoke(cli, ["dm", "render", "--scenario", "lapsed-sale-dm", "--out", str(out), "--bleed",
                                 "--db", db_url])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 pieces, 4 pages" in result.output and (out / "pieces-001.pdf").is_file()

    again = runner.invoke(cli, ["dm", "render", "--scenario", "lapsed-sale-dm", "--out", str(tmp_path / "b"),
                                "--db", db_url])  # fmt: skip
    assert again.exit_code == 0 and "nothing to print" in again.output

    listed = runner.invoke(cli, ["dm", "batches", "--db", db_url])
    assert "march" in listed.output and "rendered" in listed.output
    approved = runner.invoke(cli, ["dm", "approve", "march", "--by", "佐藤", "--db", db_url])
    assert approved.exit_code == 0 and "approved by 佐藤" in approved.output
    assert runner.invoke(cli, ["dm", "printed", "march", "--db", db_url]).exit_code == 0
    png = tmp_path / "p.png"
    shown = runner.invoke(cli, ["dm", "preview", "march", "--page", "2", "--dpi", "40", "--out", str(png),
                                "--db", db_url])  # fmt: skip
    assert shown.exit_code == 0 and png.read_bytes().startswith(b"\x89PNG")


def test_render_needs_one_source_and_a_template_for_segments(db_url: str, tmp_path: Path) -> None:
    both = CliRunner().invoke(cli, ["dm", "render", "--out", str(tmp_path / "x"), "--db", db_url])
    assert both.exit_code == 2 and "--scenario" in both.output
    seg = CliRunner().invoke(
        cli, ["dm", "render", "--segment", "vip", "--out", str(tmp_path / "x"), "--db", db_url]
    )
    assert seg.exit_code == 2 and "--template" in seg.output
    unknown = CliRunner().invoke(cli, ["dm", "approve", "nope", "--by", "me", "--db", db_url])
    assert unknown.exit_code == 1 and "no print batch" in unknown.output
