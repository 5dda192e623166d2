"""The font kizuna prints Japanese with: IPAexGothic (:mod:`kizuna.fonts`) or a designer's own TrueType font.

``KIZUNA_DM_FONT_PATH`` names another font instead (a ``.ttf``, or an ``.otf`` with TrueType outlines: PDF
subset embedding needs TrueType glyphs).

:func:`register_font` registers a file with ReportLab once per process; PDFs embed the subset of glyphs they
use (``FontFile2``), so a piece prints the same on any machine.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError
from kizuna.fonts import bundled_font_path

_registered: dict[Path, str] = {}


def font_path(settings: Settings | None = None) -> Path:
    """The font file to print with: ``KIZUNA_DM_FONT_PATH`` when set, else the bundled IPAexGothic."""
    settings = settings or get_settings()
    if settings.dm_font_path is None:
        return bundled_font_path()
    if not settings.dm_font_path.is_file():
        raise ConfigError(f"KIZUNA_DM_FONT_PATH: no font file {str(settings.dm_font_path)!r}")
    return settings.dm_font_path


def register_font(path: Path) -> str:
    """Register the TrueType font at ``path`` with ReportLab (once per process); the name to draw with.

    Raises:
        ConfigError: the file is not a TrueType font ReportLab can embed, naming the file.
    """
    path = path.resolve()
    name = _registered.get(path)
    if name is not None:
        return name
    name = f"kizuna-{len(_registered) + 1}-{path.stem}"
    try:
        pdfmetrics.registerFont(TTFont(name, str(path)))
    except (TTFError, OSError) as exc:
        raise ConfigError(
            f"font {str(path)!r} cannot be embedded: {exc}; use a .ttf (or an .otf with TrueType outlines)"
        ) from exc
    _registered[path] = name
    return name
