"""Exports: the full file, and adds and removals against the state of the previous export."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from audience_seed import T0, Person, add_people, set_segment

from kizuna.channels.audiences.export import export_audience
from kizuna.channels.audiences.normalise import sha256_hex
from kizuna.errors import ConfigError
from kizuna.privacy.consent import record_consent
from kizuna.store import Store


def _emails(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[0] for row in list(csv.reader(handle))[1:]]


def test_adds_and_removals_between_two_exports(store: Store, tmp_path: Path) -> None:
    ids = add_people(
        store,
        [
            Person("stays", "stays@example.jp"),
            Person("leaves", "leaves@example.jp"),
            Person("withdraws", "withdraws@example.jp"),
            Person("joins", "joins@example.jp"),
            Person("no-contact", None),
        ],
    )
    set_segment(store, "vip", [ids["stays"], ids["leaves"], ids["withdraws"], ids["no-contact"]])
    first = export_audience(store, "vip", platform="google", out_dir=tmp_path, now=T0 + timedelta(days=1))
    assert (first.members, first.exported, first.no_consent, first.no_identifier) == (4, 3, 0, 1)
    assert (first.adds, first.removals) == (None, None)
    assert set(first.files) == {"full", "state"}
    full = _emails(tmp_path / "vip.google.full.csv")
    assert full == [sha256_hex(e) for e in ("stays@example.jp", "leaves@example.jp", "withdraws@example.jp")]

    later = T0 + timedelta(days=5)
    set_segment(store, "vip", [ids["stays"], ids["withdraws"], ids["joins"]], at=later)
    with store.session() as session, session.begin():
        record_consent(session, ids["withdraws"], "ads", "withdrawn", at=later)
    second = export_audience(
        store, "vip", platform="google", out_dir=tmp_path, now=later + timedelta(hours=1)
    )
    assert (second.members, second.exported, second.no_consent) == (3, 2, 1)
    assert (second.adds, second.removals) == (1, 2)
    assert _emails(tmp_path / "vip.google.adds.csv") == [sha256_hex("joins@example.jp")]
    assert sorted(_emails(tmp_path / "vip.google.removals.csv")) == sorted(
        sha256_hex(e) for e in ("leaves@example.jp", "withdraws@example.jp")
    )

    third = export_audience(store, "vip", platform="google", out_dir=tmp_path, now=later + timedelta(hours=2))
    assert (third.adds, third.removals) == (0, 0)


def test_state_keeps_hashes_only(store: Store, tmp_path: Path) -> None:
    ids = add_people(store, [Person("a", "a@example.jp", phone="090-1111-2222")])
    set_segment(store, "s", list(ids.values()))
    export_audience(store, "s", platform="meta", out_dir=tmp_path, now=T0 + timedelta(days=1))
    text = (tmp_path / "s.meta.state.json").read_text(encoding="utf-8")
    assert "a@example.jp" not in text and "1111" not in text
    state = json.loads(text)
    assert state["identifiers"] == [[sha256_hex("a@example.jp"), sha256_hex("819011112222")]]
    payload = json.loads((tmp_path / "s.meta.full.json").read_text(encoding="utf-8"))
    assert payload["data"][0][:2] == state["identifiers"][0]


def test_line_user_ids_and_a_changed_email(store: Store, tmp_path: Path) -> None:
    uid = "U" + "ab" * 16
    ids = add_people(store, [Person("a", "old@example.jp", line_id=uid), Person("b", "b@example.jp")])
    set_segment(store, "s", list(ids.values()))
    result = export_audience(
        store, "s", platform="line", out_dir=tmp_path, now=T0 + timedelta(days=1), line_id="user_id"
    )
    assert (result.exported, result.no_identifier) == (1, 1)
    assert (tmp_path / "s.line-user-ids.full.txt").read_text(encoding="utf-8") == f"{uid}\n"

    export_audience(store, "s", platform="line", out_dir=tmp_path, now=T0 + timedelta(days=1))
    from kizuna.store.tables import Customer

    with store.session() as session, session.begin():
        session.get(Customer, ids["a"]).email = "new@example.jp"  # type: ignore[union-attr]
    again = export_audience(store, "s", platform="line", out_dir=tmp_path, now=T0 + timedelta(days=2))
    assert (again.adds, again.removals) == (1, 1)
    assert (tmp_path / "s.line.adds.txt").read_text(encoding="utf-8") == f"{sha256_hex('new@example.jp')}\n"
    assert (tmp_path / "s.line.removals.txt").read_text(
        encoding="utf-8"
    ) == f"{sha256_hex('old@example.jp')}\n"


def test_bad_platform_and_bad_state(store: Store, tmp_path: Path) -> None:
    ids = add_people(store, [Person("a", "a@example.jp")])
    set_segment(store, "s", list(ids.values()))
    with pytest.raises(ConfigError, match="unknown platform 'tiktok'"):
        export_audience(store, "s", platform="tiktok", out_dir=tmp_path, now=T0)
    (tmp_path / "s.google.state.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an audience state file"):
        export_audience(store, "s", platform="google", out_dir=tmp_path, now=T0)
