"""``kizuna dm``: print batches of paper direct mail: render, list, approve, mark printed, preview."""

from __future__ import annotations

from pathlib import Path

import click

from kizuna.channels.dm.batches import approve_batch, batch_page_png, list_batches, mark_printed
from kizuna.channels.dm.render import BatchReport, render_scenario, render_segment
from kizuna.channels.dm.sheet import PrintOptions
from kizuna.cli.common import console, db_option, store_for
from kizuna.errors import ConfigError
from kizuna.progress import RichProgress
from kizuna.store.types import utcnow


@click.group("dm")
def dm() -> None:
    """Paper direct mail: print-ready PDF batches for the print shop."""


def _summary(report: BatchReport) -> None:
    if report.out_dir is None:
        console.print(f"nothing to print for {report.name}: no due direct mail deliveries")
        return
    left_out = ", ".join(f"{reason} {n}" for reason, n in sorted(report.suppressed.items())) or "none"
    console.print(
        f"batch {report.name}: {report.pieces} pieces, {report.pages} pages in {len(report.files)} file(s) "
        f"in {report.out_dir}; left out: {left_out}",
        highlight=False,
        soft_wrap=True,
    )
    if report.remaining:
        console.print(f"{report.remaining:,} more due: render another batch for them", highlight=False)


@dm.command("render")
@click.option("--scenario", metavar="NAME", help="Print this scenario's due direct mail deliveries.")
@click.option("--segment", metavar="NAME", help="Print a piece for each current member of this segment.")
@click.option(
    "--template", metavar="LAYOUT", help="Layout (postcard, a4-letter or your own). Required with --segment."
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="New folder for the batch.",
)
@click.option("--name", metavar="NAME", help="Batch name (default: the --out folder's name).")
@click.option("--bleed", is_flag=True, help="Add a 3 mm bleed on every side.")
@click.option("--crop-marks", is_flag=True, help="Draw crop marks (トンボ) in a 10 mm slug around each page.")
@click.option("--coupon-prefix", metavar="PREFIX", help="With --segment: give each customer a unique coupon.")
@click.option(
    "--coupon-days", type=click.IntRange(1, 3650), default=30, show_default=True, help="Coupon validity."
)
@click.option(
    "--recommend", type=click.IntRange(0, 12), default=3, show_default=True,
    help="With --segment: items recommended by the trained default model (0: none).",
)  # fmt: skip
@click.option(
    "--limit", type=click.IntRange(1), default=None, metavar="N",
    help="At most N pieces in this batch (the print shop's capacity, or a proof run); the rest stay due.",
)  # fmt: skip
@db_option
def render_command(
    scenario: str | None,
    segment: str | None,
    template: str | None,
    out: Path,
    name: str | None,
    bleed: bool,
    crop_marks: bool,
    coupon_prefix: str | None,
    coupon_days: int,
    recommend: int,
    limit: int | None,
    db: str | None,
) -> None:
    """Render a print batch: PDFs, manifest.csv, suppressed.csv and batch.json in a new folder."""
    if (scenario is None) == (segment is None):
        raise ConfigError("give either --scenario NAME or --segment NAME")
    if segment is not None and template is None:
        raise ConfigError("--segment needs --template LAYOUT (postcard, a4-letter or your own)")
    options = PrintOptions(bleed=bleed, crop_marks=crop_marks)
    store = store_for(db)
    with RichProgress(transient=True) as progress:
        if scenario is not None:
            report = render_scenario(store, scenario, out, name=name, template=template, options=options,
                                     limit=limit, progress=progress)  # fmt: skip
        else:
            assert segment is not None and template is not None
            report = render_segment(
                store, segment, template, out, name=name, coupon_prefix=coupon_prefix,
                coupon_days=coupon_days, recommend=recommend, options=options, limit=limit,
                progress=progress,
            )  # fmt: skip
    _summary(report)


@dm.command("batches")
@db_option
def batches_command(db: str | None) -> None:
    """List print batches, newest first."""
    with store_for(db).session() as session:
        found = list_batches(session)
    if not found:
        console.print("no print batches yet: see `kizuna dm render`")
        return
    for b in found:
        approved = f" by {b.approved_by}" if b.approved_by else ""
        console.print(
            f"{b.name}  {b.status}{approved}  {b.source}  {b.template} {b.size}  {b.pieces} pieces, "
            f"{b.pages} pages, {b.suppressed} left out  {b.out_dir}",
            highlight=False,
            soft_wrap=True,
        )


@dm.command("approve")
@click.argument("name")
@click.option("--by", "by", required=True, metavar="WHO", help="Who approves the batch for print.")
@db_option
def approve_command(name: str, by: str, db: str | None) -> None:
    """Approve a rendered batch for print."""
    store = store_for(db)
    with store.session() as session, session.begin():
        approve_batch(session, name, by=by, at=utcnow())
    console.print(f"batch {name} approved by {by}", highlight=False)


@dm.command("printed")
@click.argument("name")
@db_option
def printed_command(name: str, db: str | None) -> None:
    """Record that an approved batch went to print."""
    store = store_for(db)
    with store.session() as session, session.begin():
        mark_printed(session, name)
    console.print(f"batch {name} marked printed", highlight=False)


@dm.command("preview")
@click.argument("name")
@click.option("--file", "file", metavar="PDF", help="Which PDF of the batch (default: the first).")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page in that PDF.")
@click.option("--dpi", type=click.FloatRange(1, 600), default=96, show_default=True, help="Resolution.")
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="PNG to write."
)
@db_option
def preview_command(name: str, file: str | None, page: int, dpi: float, out: Path, db: str | None) -> None:
    """Write one page of a batch as a PNG image."""
    with store_for(db).session() as session:
        png = batch_page_png(session, name, file=file, page=page, dpi=dpi)
    out.write_bytes(png)
    console.print(f"wrote {out} ({len(png):,} bytes)", highlight=False)
