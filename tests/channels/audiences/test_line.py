"""LINE's upload file: one hashed email, or one LINE user id, a line."""

from __future__ import annotations

from pathlib import Path

from kizuna.channels.audiences.line import write_line
from kizuna.channels.audiences.members import AudienceCustomer
from kizuna.channels.audiences.normalise import sha256_hex

UID = "U" + "4af4980629" * 3 + "ab"
PEOPLE = [
    AudienceCustomer(1, email="Hanako@Example.JP ", line_user_id=UID),
    AudienceCustomer(2, email=None, line_user_id=None),
    AudienceCustomer(3, email="jiro@example.jp"),
]


def test_hashed_emails_one_a_line_without_header(tmp_path: Path) -> None:
    path = tmp_path / "line.txt"
    assert write_line(PEOPLE, path) == 2
    assert (
        path.read_text(encoding="utf-8")
        == f"{sha256_hex('hanako@example.jp')}\n{sha256_hex('jiro@example.jp')}\n"
    )


def test_user_ids_of_those_who_have_one(tmp_path: Path) -> None:
    path = tmp_path / "line-ids.txt"
    assert write_line(PEOPLE, path, kind="user_id") == 1
    assert path.read_text(encoding="utf-8") == f"{UID}\n"
