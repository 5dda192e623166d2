"""Builders for direct mail tests: a mailable customer, a direct mail delivery, reading PDFs back."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from kizuna.config import Settings, get_settings
from kizuna.privacy.consent import record_consent
from kizuna.store import Store
from kizuna.store.automation import Delivery
from kizuna.store.tables import Customer

SECRET = "a-secret-for-links-on-paper"
BASE = "https://kizuna.example.jp"
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
_serial = itertools.count(1)

ITEMS = [
    {"product_id": i, "sku": f"tea-{i}", "title": f"深蒸し煎茶 {i}", "price": 1280.0 * i, "currency": "JPY",
     "image_url": None, "reason": "bought_together",
     "reason_text": {"en": "Often bought with Matcha", "ja": "抹茶と一緒によく購入されています"}}
    for i in range(1, 4)
]  # fmt: skip


def configure(monkeypatch: pytest.MonkeyPatch, **env: object) -> Settings:
    """Set the link settings (and ``env``) for this test; the settings."""
    values = {"public_base_url": BASE, "link_secret": SECRET, "dm_workers": "1", **env}
    for name, value in values.items():
        monkeypatch.setenv(f"KIZUNA_{name.upper()}", str(value))
    get_settings.cache_clear()
    return get_settings()


def customer(
    store: Store,
    *,
    name: str | None = "山田 花子",
    postal_code: str | None = "100-0001",
    consent: bool = True,
    external_id: str | None = None,
) -> int:
    """A customer in 東京都千代田区 who granted direct mail (unless ``consent`` is False); the id."""
    n = next(_serial)
    with store.session() as session, session.begin():
        made = Customer(
            external_id=external_id or f"dm-{n}", name=name, postal_code=postal_code, country="JP",
            prefecture="東京都", city="千代田区", address_line1=f"千代田{n}-1", address_line2="郵便ビル403号",
            attributes={},
        )  # fmt: skip
        session.add(made)
        session.flush()
        if consent:
            record_consent(session, made.id, "direct_mail", "granted", at=datetime(2026, 1, 1, tzinfo=UTC))
        return made.id


def delivery(store: Store, customer_id: int, *, scenario_id: int | None, **payload: Any) -> int:
    """A pending direct mail delivery with a coupon and three recommendations; the id."""
    n = next(_serial)
    with store.session() as session, session.begin():
        row = Delivery(
            key=f"{scenario_id or 0}:dm:{customer_id}:once:{n}", scenario_id=scenario_id, step="dm",
            customer_id=customer_id, channel="direct_mail", template="lapsed-sale", arm="a",
            payload={"coupon": f"SALE-{n:08d}", "recommend": {"items": ITEMS}, **payload},
            status="pending", created_at=T0, due_at=T0,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def page_texts(pdf: Path | bytes) -> list[str]:
    """The text of every page, as PDFium extracts it."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def vertical_columns(pdf: Path | bytes, page: int = 0) -> list[str]:
    """The Japanese text of a page read as vertical writing: characters whose centres lie within 4 points
    of each other across form a column; columns from right to left, each from top to bottom."""
    document = pdfium.PdfDocument(pdf)
    try:
        text = document[page].get_textpage()
        chars = []
        for i in range(text.count_chars()):
            ch = text.get_text_range(i, 1)
            if ch.strip() and not ch.isascii():  # horizontal ASCII (the postal code) is read elsewhere
                left, bottom, right, top = text.get_charbox(i)
                chars.append(((left + right) / 2, -(top + bottom) / 2, ch))
    finally:
        document.close()
    columns: list[list[tuple[float, float, str]]] = []
    for char in sorted(chars, reverse=True):
        if columns and columns[-1][0][0] - char[0] <= 4:
            columns[-1].append(char)
        else:
            columns.append([char])
    return ["".join(ch for _, _, ch in sorted(column, key=lambda c: c[1])) for column in columns]
