"""One printed piece: what a layout prints for one delivery, gathered from the outbox row and the customer.

A :class:`Piece` is plain data (it crosses to the rendering processes): the recipient's printable address,
the coupon, the recommended items, the tracked URL the QR code carries and the customer barcode's data.
:func:`address_problem` says why a customer cannot be mailed (no 7-digit postal code, no address lines, no
name, an address outside Japan).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kizuna.channels.base import OutboxDelivery, PermanentError, Recipient, RenderContext
from kizuna.channels.dm.customer_barcode import customer_barcode
from kizuna.channels.dm.typeset import postal_display, valid_postal_code, with_honorific
from kizuna.channels.tokens import LinkPurpose, link_token


@dataclass(frozen=True)
class Item:
    """A recommended product as printed: title, price, reason (both languages) and image reference."""

    title: str
    price: float | None = None
    currency: str | None = None
    sku: str | None = None
    product_id: int | None = None
    image_url: str | None = None
    reason: str | None = None
    reason_text: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Piece:
    """Everything printed on one piece."""

    delivery_id: int
    key: str
    external_id: str
    name: str
    postal_code: str
    address_lines: tuple[str, ...]
    barcode_data: str
    barcode_address: str
    qr_url: str
    coupon: str | None
    items: tuple[Item, ...]
    template: str | None
    scenario: str | None
    now: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def addressee(self) -> str:
        """The name with its honorific: ``山田 花子 様``."""
        return with_honorific(self.name)

    @property
    def postal_text(self) -> str:
        """The postal code as printed: ``〒100-0001``."""
        return postal_display(self.postal_code)


def address_problem(recipient: Recipient) -> str | None:
    """Why ``recipient`` cannot be mailed, or ``None`` when their address is complete."""
    if recipient.country not in (None, "", "JP"):
        return f"address outside Japan ({recipient.country})"
    if not valid_postal_code(recipient.postal_code):
        return "no 7-digit postal code"
    if not (recipient.address_line1 or "").strip():
        return "no address lines"
    if not (recipient.name or "").strip():
        return "no name"
    return None


def address_lines(recipient: Recipient) -> tuple[str, ...]:
    """The address as printed: prefecture and city with the first line, then the second line if any."""
    first = "".join(p.strip() for p in (recipient.prefecture, recipient.city, recipient.address_line1) if p)
    second = (recipient.address_line2 or "").strip()
    return (first, second) if second else (first,)


def items_of(payload: Mapping[str, Any]) -> tuple[Item, ...]:
    """The payload's recommended items (``recommend.items``, or a ``recommend`` list)."""
    found = payload.get("recommend")
    if isinstance(found, Mapping):
        found = found.get("items")
    items: list[Item] = []
    for raw in found if isinstance(found, list) else []:
        if not isinstance(raw, Mapping):
            continue
        title = raw.get("title") or raw.get("sku") or f"#{raw.get('product_id', '?')}"
        price = raw.get("price")
        texts = raw.get("reason_text")
        items.append(
            Item(
                title=str(title),
                price=float(price)
                if isinstance(price, int | float) and not isinstance(price, bool)
                else None,
                currency=str(raw["currency"]) if raw.get("currency") else None,
                sku=str(raw["sku"]) if raw.get("sku") else None,
                product_id=int(raw["product_id"]) if isinstance(raw.get("product_id"), int) else None,
                image_url=str(raw["image_url"]) if raw.get("image_url") else None,
                reason=str(raw["reason"]) if raw.get("reason") else None,
                reason_text={str(k): str(v) for k, v in texts.items()} if isinstance(texts, Mapping) else {},
            )
        )
    return tuple(items)


def scan_url(key: str, base_url: str, secret: str) -> str:
    """The tracked URL a piece's QR code carries: ``BASE/v1/q/TOKEN`` (a ``scan`` link token of ``key``)."""
    return f"{base_url.rstrip('/')}/v1/q/{link_token(key, secret, LinkPurpose.SCAN)}"


def make_piece(
    delivery: OutboxDelivery, recipient: Recipient, context: RenderContext, *, base_url: str, secret: str
) -> Piece:
    """The piece for ``delivery``; PermanentError when the recipient's address is not printable."""
    problem = address_problem(recipient)
    if problem is not None:
        raise PermanentError(f"customer {recipient.external_id}: no valid address: {problem}")
    assert recipient.postal_code is not None and recipient.name is not None
    after_town = " ".join(p for p in (recipient.address_line1, recipient.address_line2) if p)
    barcode = customer_barcode(recipient.postal_code, after_town)
    coupon = delivery.payload.get("coupon")
    return Piece(
        delivery_id=delivery.id,
        key=delivery.key,
        external_id=recipient.external_id,
        name=" ".join(recipient.name.split()),
        postal_code=barcode.postal_code,
        address_lines=address_lines(recipient),
        barcode_data=barcode.data,
        barcode_address=after_town,
        qr_url=scan_url(delivery.key, base_url, secret),
        coupon=str(coupon) if coupon else None,
        items=items_of(delivery.payload),
        template=delivery.template,
        scenario=context.scenario,
        now=context.now,
        payload=dict(delivery.payload),
    )


def yen(value: object) -> str:
    """A price as printed: ``¥1,280`` (other values as text)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"¥{value:,.0f}"
    return "" if value is None else str(value)


def template_variables(piece: Piece, lang: str) -> dict[str, Any]:
    """What a layout's text sees: ``customer`` (``name``, ``addressee`` with 様, ``external_id``,
    ``postal_code`` as 〒..., ``address_lines``), ``greeting``, ``coupon``, ``items`` (``title``, ``price``,
    ``price_text``, ``reason_text`` in the layout's language, ``sku``), ``scenario``, ``template``, ``key``,
    ``qr_url``, ``now`` and ``payload``. Filter ``yen`` formats a price."""
    return {
        "customer": {
            "name": piece.name,
            "addressee": piece.addressee,
            "external_id": piece.external_id,
            "postal_code": piece.postal_text,
            "address_lines": list(piece.address_lines),
        },
        "greeting": piece.addressee,
        "coupon": piece.coupon,
        "items": [
            {
                "title": item.title,
                "price": item.price,
                "price_text": yen(item.price),
                "reason_text": reason_of(item, lang),
                "sku": item.sku,
            }
            for item in piece.items
        ],
        "scenario": piece.scenario,
        "template": piece.template,
        "key": piece.key,
        "qr_url": piece.qr_url,
        "now": piece.now,
        "payload": dict(piece.payload),
    }


def reason_of(item: Item, lang: str) -> str:
    """The item's reason in ``lang`` (the other language, then nothing, when missing)."""
    return item.reason_text.get(lang) or next(iter(item.reason_text.values()), "") or ""
