"""The printed sheet around a piece: bleed, crop marks (トンボ) and the PDF page boxes.

- Without options the page is the finished size (TrimBox = MediaBox).
- ``bleed`` adds 3 mm on every side: MediaBox and BleedBox grow by 6 mm each way, TrimBox stays the
  finished size, and backgrounds (and ``rect`` blocks with ``bleed: true``) are printed into it.
- ``crop_marks`` adds a 10 mm slug on every side (it holds the 3 mm bleed, when asked for, and the marks):
  the page grows by 20 mm each way (a postcard becomes 120×168 mm). Japanese-style corner marks (two lines
  each, at the trim line and 3 mm outside it) and centre marks are drawn in registration black
  (C100 M100 Y100 K100) outside the bleed, so they never touch the piece.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

BLEED_MM = 3.0
SLUG_MM = 10.0
MARK_LENGTH_MM = 6.0
MARK_LINE_MM = 0.1


@dataclass(frozen=True)
class PrintOptions:
    """How pieces are set on the sheet: with a 3 mm bleed and/or crop marks."""

    bleed: bool = False
    crop_marks: bool = False


#: Pieces at their finished size, without bleed or marks.
PLAIN = PrintOptions()


@dataclass(frozen=True)
class Sheet:
    """The page around a finished piece of ``width`` × ``height`` mm, in points."""

    width: float
    height: float
    options: PrintOptions

    @property
    def bleed(self) -> float:
        """The bleed on each side, in points (0 without bleed)."""
        return BLEED_MM * mm if self.options.bleed else 0.0

    @property
    def margin(self) -> float:
        """From the page edge to the trim line, in points."""
        if self.options.crop_marks:
            return SLUG_MM * mm
        return self.bleed

    @property
    def trim(self) -> tuple[float, float, float, float]:
        """TrimBox: the finished piece (x0, y0, x1, y1)."""
        m = self.margin
        return (m, m, m + self.width * mm, m + self.height * mm)

    @property
    def bleed_box(self) -> tuple[float, float, float, float]:
        """BleedBox: the trim box grown by the bleed."""
        x0, y0, x1, y1 = self.trim
        b = self.bleed
        return (x0 - b, y0 - b, x1 + b, y1 + b)

    @property
    def page_size(self) -> tuple[float, float]:
        """MediaBox size in points."""
        m = self.margin
        return (self.width * mm + 2 * m, self.height * mm + 2 * m)

    def box(self, x: float, y: float, width: float, height: float) -> tuple[float, float, float, float]:
        """A block's box in mm from the piece's top left, as (x, bottom, width, height) in page points."""
        m = self.margin
        return (m + x * mm, m + (self.height - y - height) * mm, width * mm, height * mm)

    def start(self, canvas: Canvas) -> None:
        """Set the page size and boxes for the pages that follow."""
        canvas.setPageSize(self.page_size)
        canvas.setTrimBox(list(self.trim))
        canvas.setBleedBox(list(self.bleed_box))

    def crop_marks(self, canvas: Canvas) -> None:
        """Draw corner and centre marks in the slug (only with ``crop_marks``)."""
        if not self.options.crop_marks:
            return
        x0, y0, x1, y1 = self.trim
        gap, length = BLEED_MM * mm, MARK_LENGTH_MM * mm
        canvas.saveState()
        canvas.setStrokeColorCMYK(1, 1, 1, 1)
        canvas.setLineWidth(MARK_LINE_MM * mm)
        for cx, sx in ((x0, -1), (x1, 1)):
            for cy, sy in ((y0, -1), (y1, 1)):
                for offset in (0.0, gap):
                    # Horizontal lines at the trim and bleed heights, vertical ones likewise.
                    canvas.line(cx + sx * gap, cy + sy * offset, cx + sx * (gap + length), cy + sy * offset)
                    canvas.line(cx + sx * offset, cy + sy * gap, cx + sx * offset, cy + sy * (gap + length))
        mid_x, mid_y, half = (x0 + x1) / 2, (y0 + y1) / 2, length / 2
        for y, sy in ((y0, -1), (y1, 1)):
            canvas.line(mid_x, y + sy * gap, mid_x, y + sy * (gap + length))
            canvas.line(mid_x - half, y + sy * (gap + half), mid_x + half, y + sy * (gap + half))
        for x, sx in ((x0, -1), (x1, 1)):
            canvas.line(x + sx * gap, mid_y, x + sx * (gap + length), mid_y)
            canvas.line(x + sx * (gap + half), mid_y - half, x + sx * (gap + half), mid_y + half)
        canvas.restoreState()
