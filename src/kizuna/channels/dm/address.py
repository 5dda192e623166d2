"""The address block: 〒 postal code, address lines and the name with 様, vertical (縦書き) or horizontal.

Vertical: the postal code runs across the top right of the box; below it the address lines stand in columns
from right to left (a line too tall for the box continues in the next column, broken between numbers rather
than inside one), and the name, larger, stands in its own column in the middle of the space left. Each
character sits in its own square; see :mod:`kizuna.channels.dm.typeset` for which ones turn or move.
Horizontal: postal code, address lines and the name, top to bottom, each shrunk to fit the width.
"""

from __future__ import annotations

from collections.abc import Callable

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kizuna.channels.dm.layout import AddressBlock
from kizuna.channels.dm.piece import Piece
from kizuna.channels.dm.sheet import Sheet
from kizuna.channels.dm.typeset import (
    ROTATED,
    SHIFTED,
    SPACE_EM,
    SPACES,
    TextDoesNotFit,
    column_ems,
    fit,
    fit_column,
    vertical_text,
)

Painter = Callable[[Canvas], None]
#: Baseline below the centre of a character's square, in ems (IPAexGothic: ascent 0.88, descent 0.12).
CENTRE_TO_BASELINE = 0.38
COLUMN_PITCH = 1.35
_NUMERAL = set("〇一二三四五六七八九ー")


def address_painter(block: AddressBlock, piece: Piece, sheet: Sheet, font: str) -> Painter:
    """A painter for ``block`` on ``piece``; TextDoesNotFit when the address cannot fit the box."""
    if block.direction == "vertical":
        return _vertical(block, piece, sheet, font)
    return _horizontal(block, piece, sheet, font)


def _split_column(text: str, per_column: int) -> list[str]:
    """``text`` in columns of at most ``per_column`` characters, breaking between numbers if possible."""
    columns: list[str] = []
    while len(text) > per_column:
        cut = per_column
        while cut > per_column // 2 and text[cut - 1] in _NUMERAL and text[cut] in _NUMERAL:
            cut -= 1
        if text[cut - 1] in _NUMERAL and text[cut] in _NUMERAL:
            cut = per_column
        columns.append(text[:cut])
        text = text[cut:]
    columns.append(text)
    return columns


def draw_column(canvas: Canvas, font: str, text: str, x_centre: float, top: float, size: float) -> None:
    """Set ``text`` top to bottom, one ``size``-point square per character, centred on ``x_centre``."""
    canvas.setFont(font, size)
    y = top
    for ch in text:
        if ch in SPACES:
            y -= SPACE_EM * size
            continue
        cy = y - 0.5 * size
        y -= size
        if ch in ROTATED:
            canvas.saveState()
            canvas.translate(x_centre, cy)
            canvas.rotate(-90)
            canvas.drawCentredString(0, -CENTRE_TO_BASELINE * size, ch)
            canvas.restoreState()
        elif ch in SHIFTED:
            canvas.drawCentredString(x_centre + 0.55 * size, cy - CENTRE_TO_BASELINE * size + 0.55 * size, ch)
        else:
            canvas.drawCentredString(x_centre, cy - CENTRE_TO_BASELINE * size, ch)


def _vertical(block: AddressBlock, piece: Piece, sheet: Sheet, font: str) -> Painter:
    x, bottom, width, height = sheet.box(block.x, block.y, block.width, block.height)
    top = bottom + height
    what = f"address of {piece.external_id}"
    postal = piece.postal_text
    postal_size = min(block.size, width / max(1.0, stringWidth(postal, font, 1)))
    column_top = top - postal_size * 1.8
    available = column_top - bottom
    texts = [vertical_text(line) for line in piece.address_lines]
    size = block.size
    longest = max(column_ems(t) for t in texts)
    if longest * size > available:
        size = max(block.min_size, available / longest)
    per_column = max(1, int(available // size))
    columns = [column for t in texts for column in _split_column(t, per_column)]
    name = vertical_text(piece.addressee)
    name_size = fit_column(name, available, size=block.name_size, min_size=block.min_size, what=what)
    address_width = len(columns) * size * COLUMN_PITCH
    if address_width + name_size * 1.5 > width:
        raise TextDoesNotFit(f"{what}: {len(columns)} address columns and the name do not fit the box")
    name_x = min(x + width / 2, x + width - address_width - name_size * 0.9)
    name_top = column_top - max(0.0, (available - column_ems(name) * name_size) / 2)

    def paint(canvas: Canvas) -> None:
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont(font, postal_size)
        canvas.drawRightString(x + width, top - postal_size, postal)
        for i, column in enumerate(columns):
            centre = x + width - (i + 0.5) * size * COLUMN_PITCH
            draw_column(canvas, font, column, centre, column_top, size)
        draw_column(canvas, font, name, name_x, name_top, name_size)

    return paint


def _horizontal(block: AddressBlock, piece: Piece, sheet: Sheet, font: str) -> Painter:
    x, bottom, width, height = sheet.box(block.x, block.y, block.width, block.height)
    top = bottom + height
    what = f"address of {piece.external_id}"

    def measure(text: str, size: float) -> float:
        return stringWidth(text, font, size)

    name_size = block.name_size
    name_width = measure(piece.addressee, 1)
    if name_width * name_size > width:
        name_size = width / name_width
    if name_size < block.min_size:
        raise TextDoesNotFit(f"{what}: the name does not fit the box's width even at {block.min_size:g} pt")
    text = "\n".join([piece.postal_text, *piece.address_lines])
    lines = fit(
        text,
        width,
        height - name_size * 1.6,
        size=block.size,
        min_size=block.min_size,
        leading=1.35,
        measure=measure,
        what=what,
    )

    def paint(canvas: Canvas) -> None:
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont(font, lines.size)
        baseline = top - lines.size
        for line in lines.lines:
            canvas.drawString(x, baseline, line)
            baseline -= lines.leading
        canvas.setFont(font, name_size)
        canvas.drawString(x, baseline - name_size * 0.6, piece.addressee)

    return paint
