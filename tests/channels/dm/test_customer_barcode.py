"""The Japan Post customer barcode: extraction, data, check digit, bars and drawing."""

from __future__ import annotations

import io
import itertools
import re

import pytest
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kizuna.channels.dm.customer_barcode import (
    PATTERNS,
    VALUES,
    Bar,
    address_display_number,
    customer_barcode,
    normalize_postal_code,
)
from kizuna.errors import ConfigError

# Japan Post's test addresses and the barcode data they must give: postal code, the address after the
# town name, the display number, the 20 data characters (CC1-CC8 written a-h) and the check character.
# Source: https://www.post.japanpost.jp/zipcode/zipmanual/p25.html (the town name, shown there in full,
# is left out here since the rules apply to the part after it).
JAPAN_POST_TEST_DATA = [
    ("263-0023", "3丁目30-8　郵便ビル403号", "3-30-8-403", "26300233-30-8-403ddd", "5"),
    ("014-0113", "南田茂木　添60-1", "60-1", "014011360-1ddddddddd", "CC8"),
    ("110-0016", "5-6-3　ABCビル10F", "5-6-3-10", "11000165-6-3-10ddddd", "9"),
    ("060-0906", "4丁目　郵便センター6号館", "4-6", "06009064-6dddddddddd", "9"),
    ("065-0006", "8丁目　郵便センター10号館", "8-10", "06500068-10ddddddddd", "9"),
    ("407-0033", "韮崎400", "400", "4070033400dddddddddd", "-"),
    ("273-0102", "東3丁目-20-5　郵便・A&bコーポB604号", "3-20-5B604", "27301023-20-5a1604dd", "0"),
    ("198-0036", "十一丁目六番地一号　郵便タワー601", "11-6-1-601", "198003611-6-1-601ddd", "CC8"),
    ("027-0203", "第二十一地割大淵川480", "21-480", "027020321-480ddddddd", "CC5"),
    ("590-0016", "四丁六番十九号", "4-6-19", "59000164-6-19ddddddd", "CC2"),
    ("080-0831", "南七線　西28", "7-28", "08008317-28ddddddddd", "CC7"),
    ("317-0055", "6丁目7-14　ABCビル2F", "6-7-14-2", "31700556-7-14-2ddddd", "CC1"),
    ("650-0046", "9丁目7-6　郵便シティA棟1F1号", "9-7-6A1-1", "65000469-7-6a01-1ddd", "5"),
    ("623-0011", "綾部6-7　LプラザB106", "6-7LB106", "62300116-7b1a1106ddd", "4"),
    ("228-0024", "6丁目3454-5　郵便ハイツ6-1108", "6-3454-5-6-1108", "22800246-3454-5-6-11", "2"),
    ("064-0804", "29丁目1524-23　第2郵便ハウス501", "29-1524-23-2-501", "064080429-1524-23-2-", "3"),
    ("910-0067", "3丁目80-25　J1ビル2-B", "3-80-25J1-2B", "91000673-80-25a91-2a", "9"),
]

# The manual's worked example of the whole process and of the check digit.
# Source: https://www.post.japanpost.jp/zipcode/zipmanual/p17.html and p21.html
WORKED_EXAMPLE = ("100-0013", "1丁目3番2号　郵便プラザ503室", "1-3-2-503", "10000131-3-2-503dddd", "9")


@pytest.mark.parametrize(
    ("postal", "address", "number", "data", "check"), [*JAPAN_POST_TEST_DATA, WORKED_EXAMPLE]
)
def test_japan_post_examples_give_the_published_data_and_check_digit(
    postal: str, address: str, number: str, data: str, check: str
) -> None:
    barcode = customer_barcode(postal, address)
    assert barcode.address_number == number
    assert barcode.data == data
    assert barcode.check_digit == check


def test_every_code_sums_to_a_multiple_of_19_with_its_check_digit() -> None:
    for postal, address, *_ in JAPAN_POST_TEST_DATA:
        barcode = customer_barcode(postal, address)
        assert sum(VALUES[code] for code in barcode.codes[1:-1]) % 19 == 0
        assert barcode.check_value == VALUES[barcode.check_digit]


def test_codes_are_start_data_check_stop() -> None:
    barcode = customer_barcode("1000013", "1丁目3番2号")
    assert barcode.codes[0] == "STC" and barcode.codes[-1] == "SPC"
    assert barcode.codes[1:21] == list(barcode.symbols)
    assert barcode.codes[21] == barcode.check_digit
    assert barcode.codes[8:16] == ["1", "-", "3", "-", "2", "CC4", "CC4", "CC4"]


@pytest.mark.parametrize(
    ("address", "number"),
    [
        ("三丁目五番地二号", "3-5-2"),  # kanji numerals before 丁目/番地/号
        ("百一番地", "101"),
        ("二〇三番", "203"),  # digit-by-digit kanji numerals
        ("三の五", "3"),  # 五 is followed by no marker: it stays a kanji, not a number
        ("十二ノ3", "12-3"),
        ("第三ビル5号室", "5"),  # 第三 is a name, not a display number
        ("３丁目２番１号", "3-2-1"),  # full-width digits
        ("３－２－１", "3-2-1"),  # full-width hyphen
        ("3−1−4", "3-1-4"),  # minus sign used as a hyphen
        ("1丁目11ー32", "1-11-32"),  # katakana long mark between numbers
        ("1-2 ＡＢＣマンション 305", "1-2-305"),  # full-width run of letters
        ("1-2 b棟 3f", "1-2B3"),  # lower case; f after a digit is a floor
        ("1-2 A.B.C.", "1-2"),  # dots dropped: ABC is a run of letters
        ("5-6 C/D", "5-6"),
        ("", ""),
        ("ビル名のみ", ""),
        ("12F", "12"),
        ("12 F", "12F"),  # F not directly after a digit is a letter
    ],
)
def test_extraction_rules(address: str, number: str) -> None:
    assert address_display_number(address) == number


@pytest.mark.parametrize(
    "postal", ["1530064", "153-0064", "〒153-0064", "〒 153-0064", "１５３－００６４", " 1530064 "]
)
def test_postal_code_forms(postal: str) -> None:
    assert normalize_postal_code(postal) == "1530064"


@pytest.mark.parametrize("postal", ["", "153-006", "15300645", "153-00A4", "abc", "153_0064"])
def test_bad_postal_codes_are_refused(postal: str) -> None:
    with pytest.raises(ConfigError, match="postal code"):
        customer_barcode(postal, "1-2-3")


def test_empty_address_pads_the_whole_number_with_cc4() -> None:
    barcode = customer_barcode("〒153-0064", "")
    assert barcode.data == "1530064" + "d" * 13
    assert barcode.symbols[7:] == ("CC4",) * 13


@pytest.mark.parametrize(
    ("letter", "control", "digit"),
    [
        ("A", "CC1", "0"),
        ("J", "CC1", "9"),
        ("K", "CC2", "0"),
        ("T", "CC2", "9"),
        ("U", "CC3", "0"),
        ("Z", "CC3", "5"),
    ],
)
def test_letters_are_a_control_code_and_a_digit(letter: str, control: str, digit: str) -> None:
    barcode = customer_barcode("1000013", f"1-{letter}")
    assert barcode.address_number == f"1{letter}"  # no hyphen next to a letter
    assert barcode.symbols[7:10] == ("1", control, digit)


def test_long_address_is_cut_at_20_characters() -> None:
    barcode = customer_barcode("1000013", "1234-5678-9012-3456")
    assert barcode.address_number == "1234-5678-9012-3456"
    assert barcode.data == "10000131234-5678-901"


def test_a_letter_cut_at_the_20th_place_keeps_its_control_code() -> None:
    barcode = customer_barcode("1000013", "1234-5678-90Z")  # Z would take places 20 and 21
    assert barcode.symbols[-2:] == ("0", "CC3")


def test_bars_are_start_characters_and_stop() -> None:
    barcode = customer_barcode("263-0023", "3丁目30-8　郵便ビル403号")
    bars = barcode.bars
    assert len(bars) == 2 + 21 * 3 + 2 == 67
    assert bars[:2] == (Bar.LONG, Bar.DESCENDER)
    assert bars[-2:] == (Bar.DESCENDER, Bar.LONG)
    # The patterns can be read back: every character's three bars are distinct from every other's.
    by_bars = {pattern: code for code, pattern in PATTERNS.items() if len(pattern) == 3}
    assert len(by_bars) == 19
    decoded = [by_bars[bars[i : i + 3]] for i in range(2, 65, 3)]
    assert decoded == barcode.codes[1:-1]


def _rectangles(pdf: bytes) -> list[tuple[float, float, float, float]]:
    numbers = r"(-?[\d.]+)"
    found = re.findall(rf"{numbers} {numbers} {numbers} {numbers} re\b".encode(), pdf)
    return [(float(x), float(y), float(w), float(h)) for x, y, w, h in found]


def _draw(height_mm: float) -> tuple[float, list[tuple[float, float, float, float]]]:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=0)
    width = customer_barcode("100-0013", "1丁目3番2号").draw_on(canvas, 20 * mm, 30 * mm, height_mm=height_mm)
    canvas.showPage()
    canvas.save()
    return width, _rectangles(buffer.getvalue())


def test_drawing_puts_67_bars_on_the_page_at_japan_post_sizes() -> None:
    width, rects = _draw(3.6)
    assert len(rects) == 67
    heights = sorted({round(h / mm, 2) for _, _, _, h in rects})
    assert heights == [1.2, 2.4, 3.6]  # timing, semi-long, long at 10 pt
    assert {round(w / mm, 2) for _, _, w, _ in rects} == {0.6}
    lefts = [x for x, _, _, _ in rects]
    assert [round((b - a) / mm, 2) for a, b in itertools.pairwise(lefts)] == [1.2] * 66
    assert lefts[0] == pytest.approx(20 * mm, abs=0.01)
    assert min(y for _, y, _, _ in rects) == pytest.approx(30 * mm, abs=0.01)
    assert width / mm == pytest.approx(66 * 1.2 + 0.6, abs=0.01)


def test_drawing_at_8_pt_scales_every_dimension() -> None:
    width, rects = _draw(3.6 * 0.8)
    assert len(rects) == 67
    assert max(h for _, _, _, h in rects) / mm == pytest.approx(2.88, abs=0.01)
    assert width / mm == pytest.approx((66 * 1.2 + 0.6) * 0.8, abs=0.01)


@pytest.mark.parametrize("height_mm", [2.8, 4.2, 0.0])
def test_drawing_outside_8_to_11_5_pt_is_refused(height_mm: float) -> None:
    canvas = Canvas(io.BytesIO())
    with pytest.raises(ConfigError, match="height_mm"):
        customer_barcode("1000013", "1").draw_on(canvas, 0, 0, height_mm=height_mm)
