"""QR codes drawn as vector shapes: each run of dark modules in a row is one rectangle of a single path.

Encoded with ``segno`` (error correction level M, mask chosen by the standard's penalty rules), which
measured faster than ReportLab's own QR encoder (3.6 ms against 6.4 ms for a 90-character URL).
"""

from __future__ import annotations

import segno
from reportlab.pdfgen.canvas import Canvas

QUIET_ZONE = 4
"""Light modules around the symbol, as ISO/IEC 18004 asks."""


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of ``data`` in the ``size``-point square with lower left corner (``x``, ``y``),
    quiet zone included (painted white, so the code reads on a coloured background too)."""
    matrix = segno.make_qr(data, error="m", boost_error=False).matrix
    count = len(matrix)
    module = size / (count + 2 * QUIET_ZONE)
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    # One path in module units (a transformation scales it), so every coordinate is a small integer: the
    # PDF operators are written directly, several times faster than one path call per rectangle.
    ops = [f"0 g 1 0 0 1 {x:.3f} {y + size:.3f} cm {module:.5f} 0 0 {module:.5f} 0 0 cm"]
    for r, row in enumerate(matrix):
        top = -(r + QUIET_ZONE + 1)
        c = 0
        while c < count:
            if row[c]:
                start = c
                while c < count and row[c]:
                    c += 1
                ops.append(f"{start + QUIET_ZONE} {top} {c - start} 1 re")
            else:
                c += 1
    ops.append("f")
    canvas.addLiteral("\n".join(ops))
    canvas.restoreState()
