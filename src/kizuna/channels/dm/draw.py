"""Drawing pieces: a :class:`PieceRenderer` turns a layout and a piece into PDF pages with ReportLab.

Every block is first *prepared* (Jinja2 text rendered, lines broken and fitted), then painted: a piece whose
text cannot fit raises :class:`~kizuna.channels.dm.typeset.TextDoesNotFit` before anything of it is drawn,
so a batch can leave that piece out and go on. Jinja2 runs in its sandbox (customer data is never code), and
templates are compiled once per renderer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from reportlab.lib.colors import HexColor
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kizuna.channels.base import PermanentError
from kizuna.channels.dm.address import Painter, address_painter
from kizuna.channels.dm.customer_barcode import customer_barcode
from kizuna.channels.dm.layout import (
    BarcodeBlock,
    Block,
    CouponBlock,
    ItemsBlock,
    Layout,
    QrBlock,
    RectBlock,
    TextBlock,
)
from kizuna.channels.dm.piece import Item, Piece, reason_of, template_variables, yen
from kizuna.channels.dm.qr import draw_qr
from kizuna.channels.dm.sheet import PrintOptions, Sheet
from kizuna.channels.dm.typeset import Fitted, fit
from kizuna.errors import ConfigError

ASCENT = 0.88
PLACEHOLDER_GREY = (0.85, 0.85, 0.85)


class PieceRenderer:
    """Draws pieces of one layout with one font, at one sheet setting."""

    def __init__(
        self, layout: Layout, font: str, options: PrintOptions, *, images_dir: Path | None = None
    ) -> None:
        self.layout = layout
        self.font = font
        self.sheet = Sheet(layout.width, layout.height, options)
        self.images_dir = images_dir.resolve() if images_dir is not None else None
        self._env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
        self._env.filters["yen"] = yen
        self._templates: dict[str, jinja2.Template] = {}
        for p, page in enumerate(layout.pages):
            for b, block in enumerate(page.blocks):
                for name in ("text", "label", "caption"):
                    source = getattr(block, name, None)
                    if isinstance(source, str):
                        self._compile(source, f"pages[{p}].blocks[{b}].{name}")

    def _compile(self, source: str, field: str) -> jinja2.Template:
        found = self._templates.get(source)
        if found is None:
            try:
                found = self._env.from_string(source)
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(
                    f"direct mail layout {self.layout.source or self.layout.name}: field {field}: "
                    f"template error on line {exc.lineno}: {exc.message}"
                ) from exc
            self._templates[source] = found
        return found

    def _text(self, source: str, variables: dict[str, Any], what: str) -> str:
        try:
            return self._templates[source].render(variables).strip("\n")
        except jinja2.TemplateError as exc:
            raise PermanentError(f"{what}: {type(exc).__name__}: {exc}") from exc

    def measure(self, text: str, size: float) -> float:
        """The width of ``text`` at ``size`` points in this renderer's font."""
        return float(stringWidth(text, self.font, size))

    def prepare(self, piece: Piece) -> list[list[Painter]]:
        """Every page's painters for ``piece``; raises before anything is drawn when a piece cannot be set."""
        variables = template_variables(piece, self.layout.lang)
        pages = []
        for page in self.layout.pages:
            painters: list[Painter] = []
            if page.background is not None:
                painters.append(self._background(page.background))
            for i, block in enumerate(page.blocks):
                what = f"{self.layout.name} page {page.name} block {i + 1} ({block.type})"
                what += f" for {piece.external_id}"
                painter = self._painter(block, piece, variables, what)
                if painter is not None:
                    painters.append(painter)
            pages.append(painters)
        return pages

    def draw(self, canvas: Canvas, piece: Piece) -> int:
        """Prepare and draw ``piece``, one page per layout page; the number of pages drawn."""
        pages = self.prepare(piece)
        for painters in pages:
            for paint in painters:
                paint(canvas)
            self.sheet.crop_marks(canvas)
            canvas.showPage()
        return len(pages)

    def _painter(self, block: Block, piece: Piece, variables: dict[str, Any], what: str) -> Painter | None:
        if isinstance(block, TextBlock):
            return self._text_painter(block, self._text(block.text, variables, what), what)
        if isinstance(block, RectBlock):
            return self._rect(block)
        if isinstance(block, BarcodeBlock):
            return self._barcode(block, piece)
        if isinstance(block, ItemsBlock):
            return self._items(block, piece, what)
        if isinstance(block, CouponBlock):
            return self._coupon(block, piece, self._text(block.label, variables, what), what)
        if isinstance(block, QrBlock):
            caption = self._text(block.caption, variables, what) if block.caption else ""
            return self._qr(block, piece, caption)
        return address_painter(block, piece, self.sheet, self.font)

    def _background(self, colour: str) -> Painter:
        x0, y0, x1, y1 = self.sheet.bleed_box

        def paint(canvas: Canvas) -> None:
            canvas.setFillColor(HexColor(colour))
            canvas.rect(x0, y0, x1 - x0, y1 - y0, stroke=0, fill=1)

        return paint

    def _text_painter(self, block: TextBlock, text: str, what: str) -> Painter:
        x, bottom, width, height = self.sheet.box(block.x, block.y, block.width, block.height)
        fitted = fit(
            text,
            width,
            height,
            size=block.size,
            min_size=min(block.min_size, block.size),
            leading=block.leading,
            measure=self.measure,
            what=what,
        )
        colour = HexColor(block.colour)

        def paint(canvas: Canvas) -> None:
            canvas.setFillColor(colour)
            self._lines(canvas, fitted, x, bottom + height, width, block.align)

        return paint

    def _lines(self, canvas: Canvas, fitted: Fitted, x: float, top: float, width: float, align: str) -> None:
        canvas.setFont(self.font, fitted.size)
        baseline = top - ASCENT * fitted.size
        for line in fitted.lines:
            if align == "center":
                canvas.drawCentredString(x + width / 2, baseline, line)
            elif align == "right":
                canvas.drawRightString(x + width, baseline, line)
            else:
                canvas.drawString(x, baseline, line)
            baseline -= fitted.leading

    def _rect(self, block: RectBlock) -> Painter:
        x, y, w, h = self.sheet.box(block.x, block.y, block.width, block.height)
        if block.bleed:
            b, (tx0, ty0, tx1, ty1) = self.sheet.bleed, self.sheet.trim
            x0 = x - b if x <= tx0 + 0.01 else x
            y0 = y - b if y <= ty0 + 0.01 else y
            x1 = x + w + b if x + w >= tx1 - 0.01 else x + w
            y1 = y + h + b if y + h >= ty1 - 0.01 else y + h
            x, y, w, h = x0, y0, x1 - x0, y1 - y0

        def paint(canvas: Canvas) -> None:
            canvas.saveState()
            if block.fill:
                canvas.setFillColor(HexColor(block.fill))
            if block.stroke:
                canvas.setStrokeColor(HexColor(block.stroke))
                canvas.setLineWidth(block.line_width * mm)
            canvas.rect(x, y, w, h, stroke=int(block.stroke is not None), fill=int(block.fill is not None))
            canvas.restoreState()

        return paint

    def _barcode(self, block: BarcodeBlock, piece: Piece) -> Painter:
        barcode = customer_barcode(piece.postal_code, piece.barcode_address)
        x, y, _, _ = self.sheet.box(block.x, block.y, 0, block.height)

        def paint(canvas: Canvas) -> None:
            barcode.draw_on(canvas, x, y, height_mm=block.height)

        return paint

    def _qr(self, block: QrBlock, piece: Piece, caption: str) -> Painter:
        x, y, size, _ = self.sheet.box(block.x, block.y, block.size, block.size)

        def paint(canvas: Canvas) -> None:
            draw_qr(canvas, piece.qr_url, x, y, size)
            if caption:
                canvas.setFillColorRGB(0, 0, 0)
                canvas.setFont(self.font, block.caption_size)
                canvas.drawCentredString(x + size / 2, y - block.caption_size * 1.1, caption)

        return paint

    def _coupon(self, block: CouponBlock, piece: Piece, label: str, what: str) -> Painter | None:
        if piece.coupon is None:
            return None
        code = piece.coupon
        x, y, w, h = self.sheet.box(block.x, block.y, block.width, block.height)
        label_size = max(block.min_size, block.size * 0.6)
        size = min(block.size, (w - 4 * mm) / max(1e-6, self.measure(code, 1)))
        if size < block.min_size:
            raise PermanentError(
                f"{what}: coupon {code} is too long for its box even at {block.min_size:g} pt"
            )

        def paint(canvas: Canvas) -> None:
            canvas.saveState()
            canvas.setStrokeColor(HexColor(block.stroke))
            canvas.setLineWidth(0.4 * mm)
            canvas.setDash(3, 2)
            canvas.rect(x, y, w, h, stroke=1, fill=0)
            canvas.restoreState()
            canvas.setFillColorRGB(0, 0, 0)
            canvas.setFont(self.font, label_size)
            canvas.drawCentredString(x + w / 2, y + h - 1.5 * mm - ASCENT * label_size, label)
            canvas.setFont(self.font, size)
            canvas.drawCentredString(x + w / 2, y + (h - label_size - 1.5 * mm) / 2 - size * 0.35, code)

        return paint

    def _items(self, block: ItemsBlock, piece: Piece, what: str) -> Painter | None:
        items = piece.items[: block.count]
        if not items:
            return None
        x, y, w, h = self.sheet.box(block.x, block.y, block.width, block.height)
        gap = block.gap * mm
        cell = (w - gap * (block.count - 1)) / block.count
        image_h = min(block.image_height * mm, h / 2)
        cells = []
        for i, item in enumerate(items):
            text = "\n".join(
                part for part in (item.title, yen(item.price), reason_of(item, self.layout.lang)) if part
            )
            fitted = fit(
                text,
                cell,
                h - image_h - 1 * mm,
                size=block.size,
                min_size=min(block.min_size, block.size),
                leading=1.25,
                measure=self.measure,
                what=f"{what} item {i + 1}",
            )
            cells.append((x + i * (cell + gap), item, fitted))

        def paint(canvas: Canvas) -> None:
            for left, item, fitted in cells:
                self._image(canvas, item, left, y + h - image_h, cell, image_h)
                canvas.setFillColorRGB(0, 0, 0)
                self._lines(canvas, fitted, left, y + h - image_h - 1 * mm, cell, "left")

        return paint

    def local_image(self, item: Item) -> Path | None:
        """The item's image as a file inside ``KIZUNA_DM_IMAGES_DIR``; never anything fetched."""
        if self.images_dir is None or not item.image_url:
            return None
        if "://" in item.image_url and not item.image_url.startswith("file://"):
            return None  # a web address: printed as a placeholder, never fetched
        path = Path(item.image_url.removeprefix("file://"))
        path = (path if path.is_absolute() else self.images_dir / path).resolve()
        if not path.is_relative_to(self.images_dir) or not path.is_file():
            return None
        return path

    def _image(self, canvas: Canvas, item: Item, x: float, y: float, w: float, h: float) -> None:
        if h <= 0:
            return
        path = self.local_image(item)
        if path is not None:
            canvas.drawImage(str(path), x, y, w, h, preserveAspectRatio=True, anchor="c", mask="auto")
            return
        canvas.saveState()
        canvas.setStrokeColorRGB(*PLACEHOLDER_GREY)
        canvas.setFillColorRGB(0.96, 0.96, 0.96)
        canvas.setLineWidth(0.25 * mm)
        canvas.rect(x, y, w, h, stroke=1, fill=1)
        canvas.line(x, y, x + w, y + h)
        canvas.line(x, y + h, x + w, y)
        canvas.restoreState()


def new_canvas(target: Any, renderer: PieceRenderer) -> Canvas:
    """A canvas for ``renderer``'s pieces writing to ``target`` (a path or a binary file): compressed, and
    byte-for-byte the same for the same pieces (no creation date or random document id)."""
    canvas = Canvas(target, pagesize=renderer.sheet.page_size, pageCompression=1, invariant=1)
    canvas.setCreator("kizuna")
    renderer.sheet.start(canvas)
    return canvas
