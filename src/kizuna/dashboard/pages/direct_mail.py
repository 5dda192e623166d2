"""``/direct-mail``: the print batches, newest first; ``/direct-mail/{name}``: one batch — who was left out
and why, its pages as images, approval for print, and its files.

A batch goes to the print shop only once approved: before that its PDFs are not served (the manifest and
the suppression report are, for checking). Page images, the PDFs and the manifest carry full names and
addresses, so they are for the roles that may change things (marketer, admin); viewers see the figures.
Files are named from the batch's own listing only (``pieces-NNN.pdf`` found in its folder, the two CSV
reports), never from a path the request makes up.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from kizuna.channels.dm.batch import MANIFEST, SUMMARY, SUPPRESSED
from kizuna.channels.dm.batches import approve_batch, batch_page_png, get_batch, mark_printed
from kizuna.dashboard.web import SECURITY_HEADERS, Ctx, Missing, Posted, Refused, SignedIn, redirect, render
from kizuna.errors import ConfigError, NotFoundError
from kizuna.store.automation import Scenario
from kizuna.store.direct_mail import APPROVED, PRINTED, RENDERED, DmBatch
from kizuna.store.engine import Store
from kizuna.store.types import utcnow

NAV = ("nav.direct_mail", "/direct-mail")
router = APIRouter()
PAGE = 50
#: Resolution of the page images on the approval screen (a postcard is then about 400 px wide).
THUMB_DPI = 72
#: Page images shown per batch: enough to check the layout, not every piece of a large batch.
THUMBS = 8
#: Page images kept in memory per server process.
CACHED_IMAGES = 256
PDF_NAME = re.compile(r"pieces-\d{3,6}\.pdf")
REPORTS = (MANIFEST, SUPPRESSED)


@dataclass(frozen=True)
class Listed:
    """A batch as listed."""

    batch: DmBatch
    scenario: str | None


@dataclass(frozen=True)
class Detail:
    """One batch with what its folder says: left out per reason, and its PDFs (file, pieces, pages)."""

    batch: DmBatch
    scenario: str | None
    suppressed: dict[str, int]
    files: list[dict[str, Any]]
    folder_missing: bool

    @property
    def thumbnails(self) -> list[tuple[str, int]]:
        """(file, page) of the first pages of the batch, at most :data:`THUMBS`."""
        shown: list[tuple[str, int]] = []
        for item in self.files:
            for page in range(1, int(item.get("pages", 0)) + 1):
                if len(shown) == THUMBS:
                    return shown
                shown.append((str(item["file"]), page))
        return shown


class _Images:
    """Rendered page images by (batch, file, page, file's mtime), least recently used dropped first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int, int]) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, int, int], image: bytes) -> None:
        with self._lock:
            self._items[key] = image
            while len(self._items) > self.limit:
                self._items.popitem(last=False)


_images = _Images(CACHED_IMAGES)


def _listing(store: Store, offset: int) -> list[Listed]:
    with store.session() as session:
        rows = session.execute(
            select(DmBatch, Scenario.name)
            .outerjoin(Scenario, Scenario.id == DmBatch.scenario_id)
            .order_by(DmBatch.created_at.desc(), DmBatch.id.desc())
            .offset(offset)
            .limit(PAGE + 1)
        )
        return [Listed(batch, scenario) for batch, scenario in rows]


def _pdfs(folder: Path) -> list[str]:
    """The batch's PDFs as found in its folder."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if PDF_NAME.fullmatch(p.name) and p.is_file())


def _detail(store: Store, name: str) -> Detail:
    with store.session() as session:
        try:
            batch = get_batch(session, name)
        except NotFoundError:
            raise Missing("batch") from None
        scenario = session.get(Scenario, batch.scenario_id) if batch.scenario_id else None
        scenario_name = scenario.name if scenario else None
        session.expunge(batch)
    folder = Path(batch.out_dir)
    summary: dict[str, Any] = {}
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = {}
    present = set(_pdfs(folder))
    files = [f for f in summary.get("files", []) if isinstance(f, dict) and str(f.get("file", "")) in present]
    files += [{"file": p, "pieces": None, "pages": 0} for p in sorted(present - {f["file"] for f in files})]
    reasons = summary.get("suppressed", {})
    suppressed = {str(k): int(v) for k, v in reasons.items()} if isinstance(reasons, dict) else {}
    return Detail(batch, scenario_name, suppressed, files, not folder.is_dir())


@router.get("/direct-mail")
def batches_page(ctx: SignedIn, page: int = 1) -> Response:
    """The print batches, newest first, :data:`PAGE` at a time."""
    page = max(1, min(page, 10_000))
    found = _listing(ctx.store, (page - 1) * PAGE)
    more = page + 1 if len(found) > PAGE else None
    return render(ctx, "direct_mail.html", batches=found[:PAGE], more=more, page=page)


@router.get("/direct-mail/{name}")
def batch_page(ctx: SignedIn, name: str) -> Response:
    """One batch: figures, left out per reason, page images, approval and files."""
    detail = _detail(ctx.store, name)
    return render(
        ctx, "direct_mail_batch.html", d=detail, printable=detail.batch.status in (APPROVED, PRINTED),
        rendered=RENDERED, approved=APPROVED,
    )  # fmt: skip


def _may_see_contacts(ctx: Ctx) -> None:
    if ctx.user is None or not ctx.user.can_change:
        raise Refused("contacts")


def _listed_pdf(store: Store, name: str, file: str) -> tuple[DmBatch, Path]:
    """The batch and the path of ``file`` when the batch's folder lists it; Missing otherwise."""
    with store.session() as session:
        try:
            batch = get_batch(session, name)
        except NotFoundError:
            raise Missing("batch") from None
        session.expunge(batch)
    folder = Path(batch.out_dir)
    if file not in _pdfs(folder):
        raise Missing("file")
    return batch, folder / file


def _page_image(store: Store, name: str, file: str, page: int) -> bytes:
    _, path = _listed_pdf(store, name, file)
    key = (name, file, page, path.stat().st_mtime_ns)
    found = _images.get(key)
    if found is None:
        with store.session() as session:
            try:
                found = batch_page_png(session, name, file=file, page=page, dpi=THUMB_DPI)
            except (ConfigError, NotFoundError):  # a page the file does not have
                raise Missing("page") from None
        _images.put(key, found)
    return found


@router.get("/direct-mail/{name}/pages/{file}/{page}.png")
async def page_image(ctx: SignedIn, name: str, file: str, page: int) -> Response:
    """Page ``page`` of one of the batch's PDFs as a PNG image (marketers and admins)."""
    _may_see_contacts(ctx)
    image = await run_in_threadpool(_page_image, ctx.store, name, file, page)
    response = Response(image, media_type="image/png")
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/direct-mail/{name}/files/{file}")
def download(ctx: SignedIn, name: str, file: str) -> Response:
    """A file of the batch as an attachment: a PDF once the batch is approved, or one of its two reports."""
    _may_see_contacts(ctx)
    if file in REPORTS:
        with ctx.store.session() as session:
            try:
                batch = get_batch(session, name)
            except NotFoundError:
                raise Missing("batch") from None
            path = Path(batch.out_dir) / file
        if not path.is_file():
            raise Missing("file")
        media = "text/csv; charset=utf-8"
    else:
        batch, path = _listed_pdf(ctx.store, name, file)
        if batch.status not in (APPROVED, PRINTED):
            raise Refused("not_approved")
        media = "application/pdf"
    response = FileResponse(path, media_type=media, filename=file, content_disposition_type="attachment")
    response.headers.update(SECURITY_HEADERS)
    return response


def _change(ctx: Ctx, name: str, approve: bool) -> Response:
    user = ctx.require_change()
    with ctx.store.session() as session, session.begin():
        try:
            if approve:
                approve_batch(session, name, by=user.display_name or user.email, at=utcnow())
            else:
                mark_printed(session, name)
        except NotFoundError:
            raise Missing("batch") from None
        except ConfigError:  # approved twice, or printed before approval: the batch is left as it is
            raise Refused("batch_state") from None
    return redirect(ctx, f"/direct-mail/{name}")


@router.post("/direct-mail/{name}/approve")
def approve(posted: Posted, name: str) -> Response:
    """Approve a rendered batch for print, as the signed-in user (not for viewers)."""
    return _change(posted[0], name, approve=True)


@router.post("/direct-mail/{name}/printed")
def printed(posted: Posted, name: str) -> Response:
    """Record that an approved batch went to print (not for viewers)."""
    return _change(posted[0], name, approve=False)
