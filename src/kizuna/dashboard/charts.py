"""Charts as inline SVG, drawn by hand: a series per day as a line or as bars, with axes and labels.

Hand-built rather than matplotlib: a chart here is a few dozen SVG elements written in well under a
millisecond, where matplotlib takes tens of milliseconds per figure (and its import far more), which the
300 ms page budget cannot afford; the output needs no script, no inline style and no download, so it passes
the dashboard's Content-Security-Policy, and it scales with the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 12, 28


def daily(values: dict[date, float], *, days: int, until: date) -> list[tuple[date, float]]:
    """``values`` as one point per day for the ``days`` days up to ``until``, days without data at 0."""
    start = until - timedelta(days=days - 1)
    return [
        (start + timedelta(days=k), float(values.get(start + timedelta(days=k), 0.0))) for k in range(days)
    ]


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10.0 ** len(str(int(value))) / 10
    for factor in (1, 2, 2.5, 5, 10):
        if value <= step * factor:
            return step * factor
    return step * 10


def _compact(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def chart(
    points: Sequence[tuple[date, float]],
    *,
    label: str,
    kind: str = "line",
    describe: Callable[[float], str] = _compact,
) -> Markup:
    """An SVG chart of ``points`` (``kind`` ``line`` or ``bar``) labelled ``label`` for screen readers;
    each point carries a tooltip with its day and ``describe(value)``."""
    top = _nice_ceiling(max((v for _, v in points), default=0.0))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    n = max(len(points), 1)
    step = plot_w / n

    def x(k: int) -> float:
        return _LEFT + step * (k + 0.5)

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for k in range(5):
        value = top * k / 4
        yy = y(value)
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{_LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{_compact(value)}</text>'
        )
    for k, (day, _) in enumerate(points):
        if k % max(n // 6, 1) == 0:
            parts.append(
                f'<text class="axis" x="{x(k):.1f}" y="{HEIGHT - 8}" text-anchor="middle">{day:%m/%d}</text>'
            )
    if kind == "bar":
        width = max(step * 0.7, 1.0)
        for k, (day, value) in enumerate(points):
            parts.append(
                f'<rect class="bar" x="{x(k) - width / 2:.1f}" y="{y(value):.1f}" width="{width:.1f}" '
                f'height="{max(_TOP + plot_h - y(value), 0):.1f}"><title>{day.isoformat()}: '
                f"{escape(describe(value))}</title></rect>"
            )
    else:
        path = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, (_, v) in enumerate(points))
        parts.append(f'<polyline class="line" points="{path}"/>')
        for k, (day, value) in enumerate(points):
            parts.append(
                f'<circle class="dot" cx="{x(k):.1f}" cy="{y(value):.1f}" r="2.5"><title>{day.isoformat()}: '
                f"{escape(describe(value))}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above is a number or escaped)
