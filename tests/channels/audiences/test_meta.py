"""The Custom Audiences payload: Meta's schema keys, every value hashed as Meta normalises it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from kizuna.channels.audiences.members import AudienceCustomer
from kizuna.channels.audiences.meta import SCHEMA, meta_phone, meta_zip, write_meta, write_meta_ids
from kizuna.channels.audiences.normalise import sha256_hex

TARO = AudienceCustomer(
    1, " Taro@Example.JP", "090-1234-5678", "山田 太郎", "jp", "150-0002", "東京都", "渋谷区"
)


def test_phone_and_zip_follow_metas_examples() -> None:
    # Meta: digits with the country code, no "+" and no leading zeros ("+44 844 412 4653" → 448444124653).
    assert meta_phone("+44 844 412 4653", "GB") == "448444124653"
    assert meta_phone("090-1234-5678", "JP") == "819012345678"
    assert meta_zip("150-0002", "JP") == "1500002"
    assert meta_zip("94045-1234", "US") == "94045"


def test_json_payload_has_the_schema_and_hashed_rows(tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    assert write_meta([TARO, AudienceCustomer(2)], path) == 1
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["schema"] == list(SCHEMA) == ["EMAIL", "PHONE", "FN", "LN", "ZIP", "CT", "ST", "COUNTRY"]
    assert payload["data"] == [
        [
            sha256_hex("taro@example.jp"),
            sha256_hex("819012345678"),
            sha256_hex("太郎"),
            sha256_hex("山田"),
            sha256_hex("1500002"),
            sha256_hex("渋谷区"),
            sha256_hex("東京都"),
            sha256_hex("jp"),
        ]
    ]


def test_csv_has_the_same_columns(tmp_path: Path) -> None:
    json_path, csv_path = tmp_path / "meta.json", tmp_path / "meta.csv"
    write_meta([TARO], json_path)
    write_meta([TARO], csv_path)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        header, row = list(csv.reader(handle))
    payload = json.loads(json_path.read_text(encoding="utf-8"))
    assert header == payload["schema"]
    assert row == payload["data"][0]


def test_removal_payload_has_email_and_phone_only(tmp_path: Path) -> None:
    path = tmp_path / "removals.json"
    write_meta_ids([("e" * 64, "")], path)
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "schema": ["EMAIL", "PHONE"],
        "data": [["e" * 64, ""]],
    }
