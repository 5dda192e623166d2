"""Rendering a print batch into files: PDF chunks, the print shop's manifest, the suppression report.

Pieces are split into files of ``KIZUNA_DM_CHUNK_PIECES`` pieces (``pieces-001.pdf``, ``pieces-002.pdf``
...), rendered by ``KIZUNA_DM_WORKERS`` processes in parallel (ReportLab is pure Python, so one process
uses one core). Everything is written into a hidden folder beside ``--out`` and renamed into place only when
complete: a batch that fails leaves no folder behind.

Files: the PDFs; ``manifest.csv`` (UTF-8 with BOM, so Excel in Japan opens it as UTF-8): one row per piece
with the file and page it starts on; ``suppressed.csv`` (same encoding): customers left out and why;
``batch.json``: what the batch holds.
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kizuna.channels.base import PermanentError
from kizuna.channels.dm.draw import PieceRenderer, new_canvas
from kizuna.channels.dm.fonts import register_font
from kizuna.channels.dm.layout import Layout
from kizuna.channels.dm.piece import Piece
from kizuna.channels.dm.sheet import PrintOptions
from kizuna.errors import ConfigError
from kizuna.progress import NullProgress, Progress

MANIFEST = "manifest.csv"
SUPPRESSED = "suppressed.csv"
SUMMARY = "batch.json"
MANIFEST_COLUMNS = (
    "delivery_id",
    "delivery_key",
    "customer_external_id",
    "name",
    "postal_code",
    "address",
    "barcode_data",
    "file",
    "page",
    "pages",
    "sides",
)
SUPPRESSED_COLUMNS = ("customer_external_id", "delivery_key", "reason", "detail")


@dataclass(frozen=True)
class Job:
    """What a rendering process needs: the layout, font, sheet options and one file's pieces."""

    layout: Layout
    font_path: Path
    options: PrintOptions
    images_dir: Path | None
    pieces: tuple[Piece, ...]
    path: Path


@dataclass
class Outcome:
    """What became of a file's pieces: pages per rendered key, and errors per key left out."""

    path: Path
    pages: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Suppression:
    """A customer left out of the batch: reason code (``no consent``, ``no valid address``, ``frequency
    cap``, ``erased``, ``cannot be printed``) and the detail stored on the delivery."""

    external_id: str
    key: str
    reason: str
    detail: str


_renderers: dict[tuple[str, Path, PrintOptions, Path | None], PieceRenderer] = {}


def _renderer(job: Job) -> PieceRenderer:
    """One renderer per process and setting: fonts registered and templates compiled once."""
    key = (job.layout.model_dump_json(), job.font_path, job.options, job.images_dir)
    found = _renderers.get(key)
    if found is None:
        found = PieceRenderer(
            job.layout, register_font(job.font_path), job.options, images_dir=job.images_dir
        )
        _renderers[key] = found
    return found


def render_file(job: Job, progress: Progress | None = None) -> Outcome:
    """Render ``job``'s pieces into one PDF; a piece that cannot be set is left out with its error."""
    renderer = _renderer(job)
    outcome = Outcome(job.path)
    canvas = new_canvas(str(job.path), renderer)
    for piece in job.pieces:
        try:
            pages = renderer.prepare(piece)
        except PermanentError as exc:
            outcome.failed[piece.key] = str(exc)
        else:
            for painters in pages:
                for paint in painters:
                    paint(canvas)
                renderer.sheet.crop_marks(canvas)
                canvas.showPage()
            outcome.pages[piece.key] = len(pages)
        if progress is not None:
            progress.advance()
    if outcome.pages:
        canvas.save()
    return outcome


def render_files(jobs: Sequence[Job], *, workers: int, progress: Progress | None = None) -> list[Outcome]:
    """Render every job, in ``workers`` processes when there is more than one job; in job order."""
    progress = progress or NullProgress()
    if workers <= 1 or len(jobs) <= 1:
        return [render_file(job, progress) for job in jobs]
    # Fresh interpreters: nothing of this process (database connections, locks) is inherited.
    context = multiprocessing.get_context("spawn")
    outcomes = []
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        for job, outcome in zip(jobs, pool.map(render_file, jobs), strict=True):
            outcomes.append(outcome)
            progress.advance(len(job.pieces))
    return outcomes


def plan_jobs(
    pieces: Sequence[Piece],
    folder: Path,
    *,
    layout: Layout,
    font_path: Path,
    options: PrintOptions,
    images_dir: Path | None,
    per_file: int,
) -> list[Job]:
    """Split ``pieces`` into files of ``per_file`` pieces in ``folder``."""
    return [
        Job(layout, font_path, options, images_dir, tuple(pieces[i : i + per_file]),
            folder / f"pieces-{n + 1:03d}.pdf")
        for n, i in enumerate(range(0, len(pieces), per_file))
    ]  # fmt: skip


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A CSV in UTF-8 with BOM (Excel in Japan reads it as UTF-8), header first."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)


def manifest_rows(pieces: Sequence[Piece], outcomes: Sequence[Outcome], sides: str) -> list[list[Any]]:
    """One manifest row per rendered piece, in print order, with the page it starts on in its file."""
    by_key = {piece.key: piece for piece in pieces}
    rows: list[list[Any]] = []
    for outcome in outcomes:
        page = 1
        for key, pages in outcome.pages.items():
            p = by_key[key]
            postal = f"{p.postal_code[:3]}-{p.postal_code[3:]}"
            rows.append(
                [p.delivery_id, p.key, p.external_id, p.name, postal, " ".join(p.address_lines),
                 p.barcode_data, outcome.path.name, page, pages, sides]
            )  # fmt: skip
            page += pages
    return rows


def file_summary(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Each PDF's name, pieces, pages and SHA-256 (the print shop can check what it received)."""
    return [
        {
            "file": o.path.name,
            "pieces": len(o.pages),
            "pages": sum(o.pages.values()),
            "sha256": hashlib.sha256(o.path.read_bytes()).hexdigest(),
        }
        for o in outcomes
        if o.pages
    ]


def write_reports(
    folder: Path,
    pieces: Sequence[Piece],
    outcomes: Sequence[Outcome],
    suppressed: Sequence[Suppression],
    summary: dict[str, Any],
    sides: str,
) -> dict[str, Any]:
    """Write the manifest, the suppression report and ``batch.json`` into ``folder``; the summary."""
    write_csv(folder / MANIFEST, MANIFEST_COLUMNS, manifest_rows(pieces, outcomes, sides))
    write_csv(
        folder / SUPPRESSED,
        SUPPRESSED_COLUMNS,
        [[s.external_id, s.key, s.reason, s.detail] for s in suppressed],
    )
    reasons: dict[str, int] = {}
    for s in suppressed:
        reasons[s.reason] = reasons.get(s.reason, 0) + 1
    summary = {
        **summary,
        "pieces": sum(len(o.pages) for o in outcomes),
        "pages": sum(sum(o.pages.values()) for o in outcomes),
        "suppressed": reasons,
        "files": file_summary(outcomes),
    }
    (folder / SUMMARY).write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return summary


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A hidden folder beside ``out`` to write the batch into; renamed to ``out`` when the block ends
    without error, removed otherwise. ConfigError when ``out`` exists already."""
    out = out.resolve()
    if out.exists():
        raise ConfigError(f"--out {out}: already exists; choose a new folder for each batch")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        yield partial
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def options_summary(options: PrintOptions) -> dict[str, Any]:
    """The sheet options as recorded in ``batch.json``."""
    return asdict(options)
