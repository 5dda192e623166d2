"""The Japan Post customer barcode (カスタマバーコード) printed on paper direct mail.

Japan Post's sorting machines read this 4-state barcode; bulk mail that carries it gets a discount. It
encodes the postal code and the **address display number** (住所表示番号: chome, banchi, go, building and
room numbers) taken from the part of the address after the town name. This module extracts that number,
builds the 20 data characters with their check digit, turns them into bars, and draws them with ReportLab at
Japan Post's sizes.

Rules implemented (Japan Post, 郵便番号・バーコードマニュアル, "バーコードに必要な文字情報の抜き出し法"):

1. Lower-case letters become upper case; ``&``, ``/``, ``・`` and ``.`` are removed and the text closed up.
   Full-width digits, letters and symbols are read as their half-width forms (Unicode NFKC).
2. Kanji numerals directly before 丁目, 丁, 番地, 番, 号, 地割, 線, の or ノ become Arabic numerals
   (十一丁目 → 11, 第二十一地割 → 21, 四丁 → 4). Other kanji numerals are ordinary kanji.
3. Arabic digits, hyphens and single letters (A-Z not next to another letter) are kept. A single ``F`` right
   after a digit means "floor" and is not kept: it becomes a hyphen (2F201 → 2-201, a trailing one drops).
4. Everything else in front of a kept character (kanji, kana, kanji numerals, blanks, runs of two or more
   letters, other symbols) becomes one hyphen; runs of hyphens become one; leading and trailing hyphens go.
5. Hyphens just before or after a kept letter are removed (A棟1F1号 → A1-1, 6-7 LプラザB106 → 6-7LB106).
6. The 7-digit postal code (its hyphen dropped) and the display number make the data part of 20 characters:
   a letter takes two (CC1 + 0-9 for A-J, CC2 + 0-9 for K-T, CC3 + 0-5 for U-Z); a longer number is cut at 20,
   keeping a letter's control code when it falls on the 20th place; a shorter one is padded with CC4.
7. The check digit makes the sum of the character values (0-9, ``-`` = 10, CC1-CC8 = 11-18) a multiple of 19.
8. The bars are: start code, 20 data characters, check digit, stop code; each character is three of four bar
   kinds (long, ascender, descender, timing), 67 bars in all.
9. Sizes at 10 pt: long bar 3.6 mm, timing bar 1.2 mm, bar pitch 1.2 mm, bar width 0.6 mm; all scale by
   ``a / 10`` for a point size ``a`` from 8 to 11.5 (long bar 2.88 mm to 4.14 mm).

Sources:

- https://www.post.japanpost.jp/zipcode/zipmanual/p17.html (overview, worked example 100-0013 1-3-2-503
  with check digit 9), p19.html and p20.html (extraction rules and the 20-character cut), p21.html (check
  digit table and example), p12.html (sizes, format, CC4 padding, letters as control code + digit),
  p25.html (the test addresses and their expected barcode data, used in
  ``tests/channels/dm/test_customer_barcode.py``).
- The bar patterns of the 19 characters and the start/stop codes are Japan Post's table
  ("カスタマバーコードの体系", p11.html), cross-checked with the open-source encoders zint
  (``backend/postal.c``, ``JapanTable``) and BWIPP (``japanpost``).

In :attr:`CustomerBarcode.data` the control codes CC1-CC8 are written ``a``-``h`` (zint's convention), so the
20 data characters fit in a 20-letter string; :attr:`CustomerBarcode.codes` names them in full.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kizuna.errors import ConfigError

__all__ = [
    "Bar",
    "BarCanvas",
    "CustomerBarcode",
    "address_display_number",
    "check_character",
    "customer_barcode",
    "normalize_postal_code",
]

DATA_LENGTH = 20
"""Postal code (7) plus address display number (13), in barcode characters."""

START = "STC"
STOP = "SPC"
PAD = "CC4"


class Bar(StrEnum):
    """One of the four bar kinds; the value is a one-letter code so ``"".join(bars)`` reads as text."""

    LONG = "L"
    ASCENDER = "A"
    DESCENDER = "D"
    TIMING = "T"


# Japan Post's table, characters 1-9, 0, -, CC1-CC8 (zint's KASUTSET order). 1 = long, 2 = ascender,
# 3 = descender, 4 = timing.
_TABLE_ORDER = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "-"] + [f"CC{n}" for n in range(1, 9)]
_TABLE = ["114", "132", "312", "123", "141", "321", "213", "231", "411", "144"]
_TABLE += ["414", "324", "342", "234", "432", "243", "423", "441", "111"]
_KINDS = {"1": Bar.LONG, "2": Bar.ASCENDER, "3": Bar.DESCENDER, "4": Bar.TIMING}
PATTERNS: dict[str, tuple[Bar, ...]] = {
    code: tuple(_KINDS[k] for k in pattern) for code, pattern in zip(_TABLE_ORDER, _TABLE, strict=True)
}
PATTERNS[START] = (Bar.LONG, Bar.DESCENDER)
PATTERNS[STOP] = (Bar.DESCENDER, Bar.LONG)

VALUES: dict[str, int] = {str(d): d for d in range(10)} | {"-": 10} | {f"CC{n}": 10 + n for n in range(1, 9)}
"""Each character's value in the check digit sum."""

_TEXT = {f"CC{n}": "abcdefgh"[n - 1] for n in range(1, 9)}

# Dashes people type between numbers; NFKC leaves these alone.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣", "-"))
_DROPPED = str.maketrans(dict.fromkeys("&/・.", None))
_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile("([〇一二三四五六七八九十百千]+)(?=丁目|丁|番地|番|号|地割|線|の|ノ)")
_TOKENS = re.compile(r"(?P<num>[0-9]+)|(?P<hyphen>-+)|(?P<alpha>[A-Z]+)|(?P<other>[^0-9A-Z-]+)")

# Sizes at 10 pt, in millimetres (p12.html); everything scales with the point size.
LONG_BAR_MM = 3.6
BAR_PITCH_MM = 1.2
BAR_WIDTH_MM = 0.6
MIN_POINT_SIZE = 8.0
MAX_POINT_SIZE = 11.5
_PT_PER_MM = 72 / 25.4


class BarCanvas(Protocol):
    """What :meth:`CustomerBarcode.draw_on` needs of a canvas: a ``reportlab.pdfgen.canvas.Canvas`` fits."""

    def saveState(self) -> None: ...

    def restoreState(self) -> None: ...

    def setFillColorRGB(self, r: float, g: float, b: float) -> None: ...

    def rect(self, x: float, y: float, width: float, height: float, stroke: int, fill: int) -> None: ...


@dataclass(frozen=True)
class CustomerBarcode:
    """A customer barcode: the data, the character codes and the bars, ready to draw.

    Attributes:
        postal_code: the 7 digits, without hyphen.
        address_number: the address display number as extracted, before the 20-character cut.
        symbols: the 20 data characters by name (``"0"``-``"9"``, ``"-"``, ``"CC1"``-``"CC8"``).
        check_digit: the check character's name (``"0"``-``"9"``, ``"-"`` or ``"CC1"``-``"CC8"``).
    """

    postal_code: str
    address_number: str
    symbols: tuple[str, ...]
    check_digit: str

    @property
    def data(self) -> str:
        """The 20 data characters as text, CC1-CC8 written ``a``-``h`` (so the CC4 padding is ``d``)."""
        return "".join(_TEXT.get(s, s) for s in self.symbols)

    @property
    def codes(self) -> list[str]:
        """Every character in printing order: start code, 20 data characters, check digit, stop code."""
        return [START, *self.symbols, self.check_digit, STOP]

    @property
    def check_value(self) -> int:
        """The check character's value (0-18)."""
        return VALUES[self.check_digit]

    @property
    def bars(self) -> tuple[Bar, ...]:
        """The 67 bars from left to right."""
        return tuple(bar for code in self.codes for bar in PATTERNS[code])

    def draw_on(self, canvas: BarCanvas, x: float, y: float, *, height_mm: float = LONG_BAR_MM) -> float:
        """Draw the bars in black with the lower left corner at (``x``, ``y``) points; return the width drawn.

        ``height_mm`` is the long bar's length: 3.6 mm at Japan Post's standard 10 pt size; it may be from
        2.88 mm (8 pt) to 4.14 mm (11.5 pt), and the bar pitch and width scale with it.
        """
        scale = _scale(height_mm)
        unit = height_mm / 3 * _PT_PER_MM  # a timing bar; a semi-long bar is two, a long bar three
        pitch = BAR_PITCH_MM * scale * _PT_PER_MM
        width = BAR_WIDTH_MM * scale * _PT_PER_MM
        canvas.saveState()
        canvas.setFillColorRGB(0, 0, 0)
        for i, bar in enumerate(self.bars):
            bottom = 0 if bar in (Bar.LONG, Bar.DESCENDER) else 1
            top = 3 if bar in (Bar.LONG, Bar.ASCENDER) else 2
            canvas.rect(x + i * pitch, y + bottom * unit, width, (top - bottom) * unit, stroke=0, fill=1)
        canvas.restoreState()
        return (len(self.bars) - 1) * pitch + width


def _scale(height_mm: float) -> float:
    points = height_mm / LONG_BAR_MM * 10
    if not MIN_POINT_SIZE - 1e-9 <= points <= MAX_POINT_SIZE + 1e-9:
        low, high = LONG_BAR_MM * MIN_POINT_SIZE / 10, LONG_BAR_MM * MAX_POINT_SIZE / 10
        raise ConfigError(
            f"customer barcode height_mm: expected the long bar's length from {low:.2f} to {high:.2f} mm "
            f"(8 to 11.5 pt, 3.6 mm at 10 pt), got {height_mm!r}"
        )
    return points / 10


def normalize_postal_code(postal_code: str) -> str:
    """The 7 digits of a postal code: ``1530064``, ``153-0064``, ``〒153-0064``, or full-width.

    Raises:
        ConfigError: anything but 7 digits remains once the 〒 mark, blanks and the hyphen are removed.
    """
    text = unicodedata.normalize("NFKC", postal_code).translate(_DASHES)
    digits = re.sub(r"[〒\s-]", "", text)
    if not re.fullmatch(r"[0-9]{7}", digits):
        raise ConfigError(
            f"customer barcode postal code: expected 7 digits like 153-0064 or 〒1530064, got {postal_code!r}"
        )
    return digits


def address_display_number(address: str) -> str:
    """Extract the address display number from the address after the town name (rules 1-5 above).

    ``"3丁目30-8　郵便ビル403号"`` gives ``"3-30-8-403"``; an address with no number gives ``""``.
    """
    text = unicodedata.normalize("NFKC", address).upper().translate(_DASHES).translate(_DROPPED)
    text = _KANJI_NUMBER.sub(lambda m: _kanji_to_arabic(m.group(1)), text)
    parts: list[str] = []  # each a digit run, one letter, or "-"
    for match in _TOKENS.finditer(text):
        kind, value = match.lastgroup, match.group()
        floor = value == "F" and bool(parts) and parts[-1].isdigit()
        if kind == "num" or (kind == "alpha" and len(value) == 1 and not floor):
            parts.append(value)
        elif not parts or parts[-1] != "-":
            parts.append("-")
    while parts and parts[0] == "-":
        parts.pop(0)
    while parts and parts[-1] == "-":
        parts.pop()
    kept = [
        part
        for i, part in enumerate(parts)
        if part != "-" or not (parts[i - 1].isalpha() or parts[i + 1].isalpha())
    ]
    return "".join(kept)


def _kanji_to_arabic(numeral: str) -> str:
    """Kanji numerals as Arabic digits: 二十一 → 21, 百一 → 101, 一〇一 → 101 (digit by digit)."""
    if not any(ch in _KANJI_UNITS for ch in numeral):
        return "".join(str(_KANJI_DIGITS[ch]) for ch in numeral)
    total, current = 0, 0
    for ch in numeral:
        if ch in _KANJI_UNITS:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[ch]
    return str(total + current)


def _symbols(postal_code: str, address_number: str) -> tuple[str, ...]:
    """The 20 data characters: cut at 20 (a letter's control code may stay alone) or padded with CC4."""
    symbols = list(postal_code)
    for ch in address_number:
        if ch.isalpha():
            offset = ord(ch) - ord("A")
            symbols += [f"CC{offset // 10 + 1}", str(offset % 10)]
        else:
            symbols.append(ch)
    symbols = symbols[:DATA_LENGTH]
    return tuple(symbols + [PAD] * (DATA_LENGTH - len(symbols)))


def check_character(symbols: tuple[str, ...] | list[str]) -> str:
    """The character that makes the sum of all values a multiple of 19."""
    value = -sum(VALUES[s] for s in symbols) % 19
    return next(name for name, v in VALUES.items() if v == value)


def customer_barcode(postal_code: str, address: str) -> CustomerBarcode:
    """Build the customer barcode for a postal code and the address after the town name.

    Args:
        postal_code: 7 digits, with or without the hyphen or 〒, half- or full-width.
        address: the part of the address after the town name (chome, banchi, go, building, room), e.g.
            ``"3丁目30-8　郵便ビル403号"``; may be empty (for a business's own postal code, say).

    Raises:
        ConfigError: the postal code is not 7 digits.
    """
    digits = normalize_postal_code(postal_code)
    number = address_display_number(address)
    symbols = _symbols(digits, number)
    return CustomerBarcode(
        postal_code=digits, address_number=number, symbols=symbols, check_digit=check_character(symbols)
    )
