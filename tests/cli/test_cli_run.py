"""``kizuna run``: one pass, a dry run, and the summary it prints."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scenarios" / "engine"))

from engine_seed import T0, customers, deliveries, event, scenario

from kizuna.cli import main
from kizuna.store import Store

FLOW = {
    "name": "hello",
    "trigger": {"event": "Go"},
    "steps": [{"send": {"channel": "email", "template": "t"}}],
}


def test_run_once_and_dry_run_print_what_happened(store: Store, db_url: str) -> None:
    scenario(store, FLOW)
    a, b = customers(store, 2)
    event(store, a, "Go", T0)
    event(store, b, "Go", T0)
    dry = CliRunner().invoke(main, ["run", "--dry-run", "--db", db_url])
    assert dry.exit_code == 0, dry.output
    assert "would have: entered 2" in dry.output and "deliveries written 2" in dry.output
    assert deliveries(store) == []
    once = CliRunner().invoke(main, ["run", "--once", "--db", db_url])
    assert once.exit_code == 0, once.output
    assert "entered 2" in once.output and "would" not in once.output
    assert sorted(d.customer_id for d in deliveries(store)) == sorted([a, b])
