"""``kizuna audiences``: export retargeting audiences for Google, Meta and LINE."""

from __future__ import annotations

from pathlib import Path

import click

from kizuna.channels.audiences import PLATFORMS, export_audience
from kizuna.cli.common import console, db_option, store_for
from kizuna.store.types import utcnow


@click.group()
def audiences() -> None:
    """Export ad audiences (segments or outbox audiences) of customers who allow ads."""


@audiences.command("export")
@click.argument("name")
@click.option("--platform", type=click.Choice(PLATFORMS), required=True, help="The ad platform's format.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the files and the state of the last export.",
)
@click.option(
    "--default-country",
    default="JP",
    show_default=True,
    metavar="CC",
    help="ISO country assumed for customers whose country is unknown (reads their phone numbers).",
)
@click.option(
    "--line-id",
    type=click.Choice(["email", "user_id"]),
    default="email",
    show_default=True,
    help="LINE only: hashed emails (LINE Ads) or LINE user ids (Messaging API).",
)
@click.option(
    "--meta-format",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="Meta only: the Marketing API payload (json) or the same columns as CSV.",
)
@db_option
def export_command(
    name: str,
    platform: str,
    out_dir: Path,
    default_country: str,
    line_id: str,
    meta_format: str,
    db: str | None,
) -> None:
    """Write audience NAME for --platform into --out: the full file, and adds and removals since the
    last export there."""
    result = export_audience(
        store_for(db),
        name,
        platform=platform,
        out_dir=out_dir,
        now=utcnow(),
        default_country=default_country,
        line_id="user_id" if line_id == "user_id" else "email",
        meta_format=meta_format,
    )
    console.print(
        f"{result.audience} ({result.source}) for {result.platform}: {result.members:,} members, "
        f"{result.exported:,} exported, {result.no_consent:,} left out for no ads consent, "
        f"{result.no_identifier:,} without an identifier",
        highlight=False,
    )
    if result.adds is None:
        console.print("first export here: no adds or removals", highlight=False)
    else:
        console.print(f"{result.adds:,} adds, {result.removals:,} removals", highlight=False)
    for part, path in result.files.items():
        console.print(f"  {part}: {path}", highlight=False, soft_wrap=True)
