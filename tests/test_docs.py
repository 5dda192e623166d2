"""The docs are part of the product: every command and every import field must be documented."""

from __future__ import annotations

from pathlib import Path

import click

from kizuna.cli import main
from kizuna.ingest.mapping import FIELDS

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: str = "kizuna") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def test_every_cli_command_is_in_the_command_reference() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(main) if f"`{c}" not in reference]
    assert missing == []


def test_every_import_field_is_in_the_import_guide() -> None:
    guide = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8")
    missing = [
        f"{kind}.{f.name}" for kind, fields in FIELDS.items() for f in fields if f"`{f.name}`" not in guide
    ]
    assert missing == []


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
