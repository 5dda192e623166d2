"""``kizuna dm render``: a print batch from a scenario's direct mail deliveries or a segment's members.

The steps, each safe to repeat: claim the batch's deliveries (:mod:`kizuna.channels.dm.outbox`), check
them at the point of use, render the pieces into a hidden folder (:mod:`kizuna.channels.dm.batch`), rename
it to ``--out``, and only then mark the deliveries sent and record the batch in ``dm_batches``. If anything
fails, the folder is removed and the deliveries are handed back, so nothing is printed twice and nothing
is marked sent that was not rendered. A run that finds nothing to print writes nothing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, select

from kizuna.channels.base import OutboxDelivery
from kizuna.channels.dm.adhoc import write_segment_deliveries
from kizuna.channels.dm.batch import (
    Suppression,
    options_summary,
    plan_jobs,
    render_files,
    staging,
    write_reports,
)
from kizuna.channels.dm.fonts import font_path
from kizuna.channels.dm.layout import DEFAULT_LAYOUT, Layout, find_layout, load_layout
from kizuna.channels.dm.outbox import check, claim_batch, due_count, finish, release
from kizuna.channels.dm.sheet import PLAIN, PrintOptions
from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError, NotFoundError
from kizuna.progress import NullProgress, Progress
from kizuna.segments.membership import member_ids
from kizuna.store.automation import Delivery, Scenario
from kizuna.store.direct_mail import RENDERED, DmBatch
from kizuna.store.engine import Store
from kizuna.store.types import utcnow

#: Most deliveries one batch claims.
MAX_BATCH = 1_000_000


@dataclass
class BatchReport:
    """What a batch run did: pieces and pages printed, customers left out (by reason), pieces that could
    not be set, and where the files are (``None`` when there was nothing to print)."""

    name: str
    out_dir: Path | None
    pieces: int = 0
    pages: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    files: list[str] = field(default_factory=list)
    remaining: int = 0
    """Deliveries still due after this batch (with ``limit``): for the next batch."""


def _settings_for_links(settings: Settings) -> None:
    if settings.public_base_url is None:
        raise ConfigError("direct mail QR codes need tracked links: set KIZUNA_PUBLIC_BASE_URL")


def _check_new_batch(store: Store, name: str, out: Path) -> None:
    if out.exists():
        raise ConfigError(f"--out {out}: already exists; choose a new folder for each batch")
    with store.session() as session:
        if session.scalar(select(DmBatch.id).where(DmBatch.name == name)) is not None:
            raise ConfigError(f"a print batch named {name!r} exists already: choose another --name")


def _layout_for(claimed: list[OutboxDelivery], template: str | None, settings: Settings) -> Layout:
    if template is not None:
        return load_layout(template, settings)
    named = sorted({d.template for d in claimed if d.template and find_layout(d.template, settings)})
    if len(named) > 1:
        raise ConfigError(f"these deliveries use the layouts {', '.join(named)}: choose one with --template")
    return load_layout(named[0] if named else DEFAULT_LAYOUT, settings)


def render_scenario(
    store: Store,
    scenario: str,
    out: Path,
    *,
    name: str | None = None,
    template: str | None = None,
    options: PrintOptions = PLAIN,
    limit: int | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """Print the scenario's due ``direct_mail`` deliveries into ``out``; see the module docstring.

    The layout is ``template``, else the deliveries' own template when a layout of that name exists, else
    ``postcard``. The batch is named ``name`` (default: the folder's name). With ``limit``, at most that many
    deliveries (the longest due first) go into this batch; the others stay due for the next one.
    """
    settings = settings or get_settings()
    with store.session() as session:
        found = session.scalar(select(Scenario.id).where(Scenario.name == scenario))
    if found is None:
        raise NotFoundError(f"no scenario named {scenario!r}; see `kizuna scenarios list`")
    meta = {"scenario": scenario}
    return _render(store, [Delivery.scenario_id == found], out, name, template, options, now, settings,
                   progress, meta, limit=limit, scenario_id=found)  # fmt: skip


def render_segment(
    store: Store,
    segment: str,
    template: str,
    out: Path,
    *,
    name: str | None = None,
    coupon_prefix: str | None = None,
    coupon_days: int = 30,
    recommend: int = 3,
    options: PrintOptions = PLAIN,
    limit: int | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """Print a piece for each current member of ``segment`` who has none in this batch yet.

    Writes the outbox rows first (keys ``dm:<name>:<customer id>``, with coupons and recommendations), then
    renders them like a scenario's. With ``limit``, only the first ``limit`` members (by id) get one: a
    proof run, or a mailing split over batches of another name.
    """
    settings = settings or get_settings()
    now = now or utcnow()
    name = name or out.name
    _settings_for_links(settings)
    _check_new_batch(store, name, out)
    load_layout(template, settings)
    members = sorted(member_ids(store, segment))[:limit]
    with store.session() as session, session.begin():
        write_segment_deliveries(
            session, name, members, template=template, now=now, coupon_prefix=coupon_prefix,
            coupon_valid=timedelta(days=coupon_days), recommend=recommend,
        )  # fmt: skip
    only = [Delivery.key.startswith(f"dm:{name}:", autoescape=True)]
    meta = {"segment": segment}
    return _render(store, only, out, name, template, options, now, settings, progress, meta, segment=segment)


def _render(
    store: Store,
    only: list[ColumnElement[bool]],
    out: Path,
    name: str | None,
    template: str | None,
    options: PrintOptions,
    now: datetime | None,
    settings: Settings,
    progress: Progress | None,
    meta: dict[str, str],
    *,
    limit: int | None = None,
    scenario_id: int | None = None,
    segment: str | None = None,
) -> BatchReport:
    now = now or utcnow()
    out = out.resolve()
    name = name or out.name
    progress = progress or NullProgress()
    _settings_for_links(settings)
    _check_new_batch(store, name, out)
    fonts = font_path(settings)
    if limit is not None and limit < 1:
        raise ConfigError(f"limit: expected at least 1 piece, got {limit}")
    most = min(limit or MAX_BATCH, MAX_BATCH)
    claimed, names = claim_batch(store, only, now=now, limit=most, settings=settings)
    report = BatchReport(name, None)
    if not claimed:
        return report
    published = False
    try:
        layout = _layout_for(claimed, template, settings)
        checked = check(store, claimed, names, now=now, settings=settings)
        with staging(out) as folder:
            jobs = plan_jobs(
                checked.pieces, folder, layout=layout, font_path=fonts, options=options,
                images_dir=settings.dm_images_dir, per_file=settings.dm_chunk_pieces,
            )  # fmt: skip
            progress.stage(f"rendering {name}", total=len(checked.pieces))
            outcomes = render_files(jobs, workers=settings.dm_workers, progress=progress)
            failed = {key: error for o in outcomes for key, error in o.failed.items()}
            by_key = {p.key: p for p in checked.pieces}
            left_out = checked.suppressed + [
                Suppression(by_key[k].external_id, k, "cannot be printed", e) for k, e in failed.items()
            ]
            summary = write_reports(
                folder, checked.pieces, outcomes, left_out,
                {"name": name, "created_at": now.isoformat(), **meta, "template": layout.name,
                 "size": layout.size_label, "sides": [p.name for p in layout.pages],
                 **options_summary(options)},
                "+".join(p.name for p in layout.pages),
            )  # fmt: skip
        published = True
        printed = {key for o in outcomes for key in o.pages}
        with store.session() as session, session.begin():
            finish(session, claimed, printed=printed, suppressed=checked.suppressed, failed=failed, now=now)
            session.add(
                DmBatch(
                    name=name, scenario_id=scenario_id, segment=segment, template=layout.name,
                    size=layout.size_label, out_dir=str(out), pieces=summary["pieces"],
                    pages=summary["pages"], suppressed=len(left_out), status=RENDERED, created_at=now,
                )
            )  # fmt: skip
    except BaseException:
        if published:
            shutil.rmtree(out, ignore_errors=True)
        release(store, claimed)
        raise
    report.out_dir = out
    report.pieces, report.pages = summary["pieces"], summary["pages"]
    report.suppressed = dict(summary["suppressed"])
    report.failed = len(failed)
    report.files = [f["file"] for f in summary["files"]]
    report.remaining = due_count(store, only, now=now)
    return report
