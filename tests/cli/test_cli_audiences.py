"""`kizuna audiences export`: the summary and the files."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from kizuna.cli import main
from kizuna.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "channels" / "audiences"))
from audience_seed import Person, add_people, set_segment


def test_export_prints_a_summary_and_writes_files(store: Store, db_url: str, tmp_path: Path) -> None:
    ids = add_people(store, [Person("a", "a@example.jp"), Person("b", "b@example.jp", ads="denied")])
    set_segment(store, "vip", list(ids.values()))
    out = tmp_path / "out"
    args = ["audiences", "export", "vip", "--platform", "meta", "--out", str(out), "--db", db_url]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "2 members, 1 exported, 1 left out for no ads consent" in first.output
    assert "first export here" in first.output
    assert (out / "vip.meta.full.json").exists()
    second = CliRunner().invoke(main, args)
    assert "0 adds, 0 removals" in second.output


def test_unknown_audience_is_an_error(store: Store, db_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["audiences", "export", "nope", "--platform", "line", "--out", str(tmp_path), "--db", db_url]
    )
    assert result.exit_code != 0
    assert "no audience named 'nope'" in result.output
