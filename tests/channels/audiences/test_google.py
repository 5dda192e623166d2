"""The Customer Match CSV: Google's headers, hashed contact data, country and zip in clear."""

from __future__ import annotations

import csv
from pathlib import Path

from kizuna.channels.audiences.google import HEADERS, write_google, write_google_ids
from kizuna.channels.audiences.members import AudienceCustomer
from kizuna.channels.audiences.normalise import sha256_hex


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_rows_follow_googles_template(tmp_path: Path) -> None:
    people = [
        AudienceCustomer(1, " Taro.Yamada@Example.JP ", "090-1234-5678", "山田 太郎", "JP", "150-0002"),
        AudienceCustomer(2, None, "03-1234-5678", None, None, None),  # the default country reads the phone
        AudienceCustomer(3, None, None, "No Contact", "JP", "100-0001"),  # nothing Google matches alone
    ]
    path = tmp_path / "google.csv"
    assert write_google(people, path, default_country="JP") == 2
    header, first, second = _read(path)
    assert tuple(header) == HEADERS == ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
    assert first == [
        sha256_hex("taro.yamada@example.jp"),
        sha256_hex("+819012345678"),
        sha256_hex("太郎"),
        sha256_hex("山田"),
        "JP",
        "150-0002",
    ]
    assert second == ["", sha256_hex("+81312345678"), "", "", "JP", ""]


def test_removal_file_has_only_the_hashed_identifiers(tmp_path: Path) -> None:
    path = tmp_path / "removals.csv"
    assert write_google_ids([("a" * 64, ""), ("", "b" * 64)], path) == 2
    assert _read(path) == [["Email", "Phone"], ["a" * 64, ""], ["", "b" * 64]]
