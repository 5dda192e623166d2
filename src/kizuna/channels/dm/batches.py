"""Print batches after rendering: listing them, approving them for print, marking them printed, and
previewing a page as a PNG image (for the dashboard's approval screen).

A batch moves ``rendered`` → ``approved`` (by a named person, at a time) → ``printed``; each step only
from the one before it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pypdfium2 as pdfium
from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.errors import ConfigError, NotFoundError
from kizuna.store.automation import Scenario
from kizuna.store.direct_mail import APPROVED, PRINTED, RENDERED, DmBatch

MAX_DPI = 600


@dataclass(frozen=True)
class BatchInfo:
    """A print batch as listed."""

    name: str
    source: str
    template: str
    size: str
    pieces: int
    pages: int
    suppressed: int
    status: str
    out_dir: str
    created_at: datetime
    approved_at: datetime | None
    approved_by: str | None


def _info(row: DmBatch, scenario: str | None) -> BatchInfo:
    source = f"scenario {scenario}" if scenario else f"segment {row.segment}" if row.segment else "-"
    return BatchInfo(
        row.name, source, row.template, row.size, row.pieces, row.pages, row.suppressed, row.status,
        row.out_dir, row.created_at, row.approved_at, row.approved_by,
    )  # fmt: skip


def list_batches(session: Session) -> list[BatchInfo]:
    """Every print batch, newest first."""
    rows = session.execute(
        select(DmBatch, Scenario.name)
        .outerjoin(Scenario, Scenario.id == DmBatch.scenario_id)
        .order_by(DmBatch.created_at.desc(), DmBatch.id.desc())
    )
    return [_info(batch, scenario) for batch, scenario in rows]


def get_batch(session: Session, name: str) -> DmBatch:
    """The batch named ``name``; NotFoundError naming the command that lists them."""
    found = session.scalars(select(DmBatch).where(DmBatch.name == name)).one_or_none()
    if found is None:
        raise NotFoundError(f"no print batch named {name!r}; see `kizuna dm batches`")
    return found


def approve_batch(session: Session, name: str, *, by: str, at: datetime) -> DmBatch:
    """Approve a ``rendered`` batch for print, recording who and when."""
    batch = get_batch(session, name)
    if batch.status != RENDERED:
        raise ConfigError(f"print batch {name!r} is {batch.status}: only a rendered batch can be approved")
    if not by.strip():
        raise ConfigError("--by: say who approves the batch")
    batch.status, batch.approved_by, batch.approved_at = APPROVED, by.strip(), at
    return batch


def mark_printed(session: Session, name: str) -> DmBatch:
    """Record that an ``approved`` batch went to print."""
    batch = get_batch(session, name)
    if batch.status != APPROVED:
        raise ConfigError(f"print batch {name!r} is {batch.status}: approve it before marking it printed")
    batch.status = PRINTED
    return batch


def page_png(pdf: Path, page: int, *, dpi: float = 96) -> bytes:
    """Page ``page`` (1-based) of the PDF at ``pdf`` as PNG bytes at ``dpi``."""
    if not 1 <= dpi <= MAX_DPI:
        raise ConfigError(f"dpi: expected 1 to {MAX_DPI}, got {dpi:g}")
    document = pdfium.PdfDocument(pdf)
    try:
        if not 1 <= page <= len(document):
            raise ConfigError(f"{pdf.name} has pages 1 to {len(document)}, not {page}")
        bitmap = document[page - 1].render(scale=dpi / 72)
        buffer = io.BytesIO()
        bitmap.to_pil().save(buffer, format="PNG")
        return buffer.getvalue()
    finally:
        document.close()


def batch_page_png(
    session: Session, name: str, *, file: str | None = None, page: int = 1, dpi: float = 96
) -> bytes:
    """A page of batch ``name`` as PNG: ``page`` of ``file`` (default: the batch's first PDF)."""
    batch = get_batch(session, name)
    folder = Path(batch.out_dir)
    files = sorted(folder.glob("pieces-*.pdf"))
    if not files:
        raise NotFoundError(f"print batch {name!r}: no PDF in {folder} (moved or deleted?)")
    chosen = folder / file if file else files[0]
    if chosen not in files:
        raise NotFoundError(
            f"print batch {name!r} has no file {file!r}: it has {', '.join(f.name for f in files)}"
        )
    return page_png(chosen, page, dpi=dpi)
