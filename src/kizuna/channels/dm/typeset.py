"""Japanese typesetting for paper: honorifics, 〒 postal codes, line breaking, shrink-to-fit, 縦書き.

- Names end with " 様" exactly once (a name already ending in 様, 殿 or 御中 is left as it is).
- Postal codes print as ``〒123-4567``.
- Lines break between any two characters except inside a run of digits, Latin letters and hyphens
  (``1-2-3``, ``A棟`` stays whole unless it is wider than the line), and never put closing punctuation or
  small kana at the start of a line, nor opening brackets at its end (禁則処理).
- Text too long for its box is set smaller, half a point at a time, down to the block's minimum size; if it
  still does not fit, :class:`TextDoesNotFit` is raised: nothing is ever cut off silently.
- Vertical text (for addresses) is set character by character, top to bottom. Arabic digits become kanji
  numerals digit by digit (``12-3`` → ``一二ー三``), since upright Arabic digits read badly in a column;
  long marks, dashes, brackets and 〜 turn 90°; 、 and 。 move to the upper right of their square.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from kizuna.channels.base import PermanentError
from kizuna.channels.dm.customer_barcode import normalize_postal_code
from kizuna.errors import ConfigError

HONORIFICS = ("様", "殿", "御中")
_NO_START = set(
    "、。，．,.)]）］｝」』】〕〉》’”ゝゞーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖ・：；！？!?%％"
)
_NO_END = set("([（［｛「『【〔〈《‘“")
_WORD = re.compile(r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ][0-9A-Za-z０-９Ａ-Ｚａ-ｚ\-－.,]*|.", re.DOTALL)
_KANJI_DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")
#: Characters that turn 90° clockwise in a vertical column.
ROTATED = set("ー－-‐―—–〜～~()（）[]［］「」『』【】〔〕〈〉《》｛｝{}<>＜＞…‥=＝")
#: Characters set in the upper right quarter of their square in a vertical column.
SHIFTED = set("、。，．")
_DASHES = str.maketrans(dict.fromkeys("-‐‑‒–—―−﹣－", "ー"))
#: Blanks in a vertical column take half a square.
SPACES = set(" \u3000")
SPACE_EM = 0.5


class TextDoesNotFit(PermanentError):
    """Text that does not fit its box even at the block's minimum size."""


Measure = Callable[[str, float], float]


def with_honorific(name: str) -> str:
    """``"山田 花子"`` → ``"山田 花子 様"``; names ending in 様, 殿 or 御中 are left as they are."""
    name = " ".join(name.split())
    if name.endswith(HONORIFICS):
        return name
    return f"{name} 様"


def postal_display(postal_code: str) -> str:
    """``"1000001"`` or ``"100-0001"`` → ``"〒100-0001"``; ConfigError when it is not 7 digits."""
    digits = normalize_postal_code(postal_code)
    return f"〒{digits[:3]}-{digits[3:]}"


def valid_postal_code(postal_code: str | None) -> bool:
    """Whether ``postal_code`` holds exactly 7 digits (with or without hyphen and 〒)."""
    if not postal_code:
        return False
    try:
        normalize_postal_code(postal_code)
    except ConfigError:
        return False
    return True


def wrap(text: str, width: float, size: float, measure: Measure) -> list[str]:
    """``text`` broken into lines no wider than ``width`` points at ``size``; newlines are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, width, size, measure))
    return lines


def _wrap_paragraph(paragraph: str, width: float, size: float, measure: Measure) -> list[str]:
    tokens = _WORD.findall(paragraph)
    lines: list[str] = []
    line = ""
    for token in tokens:
        if measure(line + token, size) <= width or not line:
            if measure(token, size) > width and not line:
                # A word wider than the line: break it where it must.
                for ch in token:
                    if line and measure(line + ch, size) > width:
                        lines.append(line)
                        line = ""
                    line += ch
                continue
            line += token
            continue
        if token[0] in _NO_START and len(line) > 1:
            # Pull the last character down so the punctuation does not start a line.
            lines.append(line[:-1])
            line = line[-1] + token
        elif line[-1] in _NO_END and len(line) > 1:
            lines.append(line[:-1])
            line = line[-1] + token
        else:
            lines.append(line.rstrip())
            line = token.lstrip()
    lines.append(line.rstrip())
    return lines


@dataclass(frozen=True)
class Fitted:
    """Lines set at ``size`` points, ``leading`` points apart."""

    lines: list[str]
    size: float
    leading: float


def fit(
    text: str,
    width: float,
    height: float,
    *,
    size: float,
    min_size: float,
    leading: float,
    measure: Measure,
    what: str,
) -> Fitted:
    """The largest size from ``size`` down to ``min_size`` (half a point at a time) at which ``text``
    fits the box; :class:`TextDoesNotFit` naming ``what`` when even ``min_size`` is too large."""
    current = size
    while True:
        lines = wrap(text, width, current, measure)
        if len(lines) * current * leading - (leading - 1) * current <= height + 0.01:
            return Fitted(lines, current, current * leading)
        if current <= min_size:
            raise TextDoesNotFit(
                f"{what}: the text does not fit its {width / 2.8346:.0f}×{height / 2.8346:.0f} mm box even "
                f"at {min_size:g} pt ({len(lines)} lines): shorten it or enlarge the box in the layout"
            )
        current = max(min_size, current - 0.5)


def vertical_text(text: str) -> str:
    """``text`` as it is set in a vertical column: NFKC-normalised, Arabic digits as kanji numerals digit
    by digit, every dash as ー (turned upright by the drawing)."""
    half = unicodedata.normalize("NFKC", text)
    return half.translate(_KANJI_DIGITS).translate(_DASHES)


def fit_column(text: str, height: float, *, size: float, min_size: float, what: str) -> float:
    """The size at which ``text`` fits a column ``height`` points tall (one em per character)."""
    count = max(1.0, column_ems(text))
    fitted = min(size, height / count)
    if fitted < min_size:
        raise TextDoesNotFit(
            f"{what}: {len(text)} characters do not fit a {height / 2.8346:.0f} mm column "
            f"even at {min_size:g} pt"
        )
    return fitted


def column_ems(text: str) -> float:
    """The height of ``text`` set vertically, in ems (blanks count half)."""
    return sum(SPACE_EM if ch in SPACES else 1.0 for ch in text)
