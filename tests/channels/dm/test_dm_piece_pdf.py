"""One piece rendered to PDF and read back: text, fonts, page boxes, the QR code and the barcode."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2 as pdfium
import pytest
import zxingcpp
from dm_seed import BASE, ITEMS, SECRET, configure, page_texts, vertical_columns

from kizuna.channels.base import OutboxDelivery, Recipient, RenderContext
from kizuna.channels.dm.channel import DirectMailChannel
from kizuna.channels.dm.customer_barcode import customer_barcode
from kizuna.channels.dm.sheet import PrintOptions
from kizuna.channels.tokens import LinkPurpose, read_link_token

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
MM = 72 / 25.4
KEY = "7:dm:42:once:1"
WHO = Recipient(
    id=42, external_id="cust-42", name="山田 花子", postal_code="1000001", country="JP", prefecture="東京都",
    city="千代田区", address_line1="千代田1-1", address_line2="郵便ビル403号",
)  # fmt: skip


def _delivery(template: str = "postcard") -> OutboxDelivery:
    payload = {"coupon": "SALE-ABCD2345", "recommend": {"items": ITEMS}}
    return OutboxDelivery(1, KEY, "direct_mail", 42, 7, 9, "dm", template, "a", payload, 1, NOW, NOW)


def _render(monkeypatch: pytest.MonkeyPatch, template: str = "postcard", **options: bool) -> bytes:
    settings = configure(monkeypatch)
    channel = DirectMailChannel(
        spool_dir=settings.data_dir / "spool", public_base_url=BASE, link_secret=SECRET, settings=settings,
        options=PrintOptions(**options),
    )  # fmt: skip
    return channel.render(_delivery(template), WHO, RenderContext(NOW, "lapsed-sale")).body


def test_the_postcard_says_who_where_and_the_coupon(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _render(monkeypatch)
    front, back = page_texts(body)
    columns = vertical_columns(body, 0)
    assert "〒100-0001" in front
    assert "山田花子様" in columns and "様様" not in front
    # The vertical address writes digits as kanji numerals, column by column from the right.
    assert columns.index("東京都千代田区千代田一ー一") < columns.index("郵便ビル四〇三号")
    assert columns.index("郵便ビル四〇三号") < columns.index("山田花子様")
    assert "SALE-ABCD2345" in back
    assert "山田 花子 様" in back
    flat = back.replace("\r\n", "")
    for title, price in (("深蒸し煎茶 1", "¥1,280"), ("深蒸し煎茶 2", "¥2,560"), ("深蒸し煎茶 3", "¥3,840")):
        assert title in back and price in back
    assert flat.count("抹茶と一緒によく購入されています") == 3


def test_the_a4_letter_prints_the_address_horizontally(monkeypatch: pytest.MonkeyPatch) -> None:
    [page] = page_texts(_render(monkeypatch, "a4-letter"))
    assert "〒100-0001" in page and "東京都千代田区千代田1-1" in page and "郵便ビル403号" in page
    assert "山田 花子 様" in page and "SALE-ABCD2345" in page


def test_the_japanese_font_is_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _render(monkeypatch)
    assert b"/FontFile2" in body
    assert b"ipaexg" in body.lower()


def _boxes(body: bytes, page: int = 0) -> dict[str, tuple[float, ...]]:
    document = pdfium.PdfDocument(body)
    try:
        p = document[page]
        return {
            "media": tuple(round(v, 2) for v in p.get_mediabox()),
            "trim": tuple(round(v, 2) for v in p.get_trimbox()),
            "bleed": tuple(round(v, 2) for v in p.get_bleedbox()),
        }
    finally:
        document.close()


def test_a_postcard_is_100_by_148_mm(monkeypatch: pytest.MonkeyPatch) -> None:
    boxes = _boxes(_render(monkeypatch))
    assert boxes["media"] == (0, 0, round(100 * MM, 2), round(148 * MM, 2))
    assert boxes["trim"] == boxes["media"]


def test_bleed_grows_the_page_by_3_mm_each_side_and_keeps_the_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    boxes = _boxes(_render(monkeypatch, bleed=True))
    b = 3 * MM
    assert boxes["media"] == (0, 0, round(106 * MM, 2), round(154 * MM, 2))
    assert boxes["trim"] == (round(b, 2), round(b, 2), round(b + 100 * MM, 2), round(b + 148 * MM, 2))
    assert boxes["bleed"] == boxes["media"]


def test_crop_marks_add_a_10_mm_slug(monkeypatch: pytest.MonkeyPatch) -> None:
    boxes = _boxes(_render(monkeypatch, bleed=True, crop_marks=True))
    assert boxes["media"][2:] == (round(120 * MM, 2), round(168 * MM, 2))
    s = 10 * MM
    assert boxes["trim"] == (round(s, 2), round(s, 2), round(s + 100 * MM, 2), round(s + 148 * MM, 2))
    assert boxes["bleed"][0] == round(7 * MM, 2)


def test_the_qr_code_carries_the_deliverys_tracked_url(monkeypatch: pytest.MonkeyPatch) -> None:
    document = pdfium.PdfDocument(_render(monkeypatch))
    image = document[1].render(scale=300 / 72).to_pil()
    document.close()
    found = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1
    url = found[0]
    assert url.startswith(f"{BASE}/v1/q/")
    assert read_link_token(url.rsplit("/", 1)[1], SECRET, LinkPurpose.SCAN) == KEY


def test_render_is_byte_for_byte_repeatable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _render(monkeypatch) == _render(monkeypatch)


def test_the_barcode_is_the_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    from kizuna.channels.dm.piece import make_piece

    piece = make_piece(_delivery(), WHO, RenderContext(NOW, None), base_url=BASE, secret=SECRET)
    assert piece.barcode_data == customer_barcode("100-0001", "千代田1-1 郵便ビル403号").data
    assert piece.barcode_data.startswith("10000011-1-403")
