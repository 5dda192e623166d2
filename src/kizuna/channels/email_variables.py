"""What an email template sees: the customer, the recommended items with their links, the coupon and more.

Items link to their product page: the payload item's own ``url``, else ``KIZUNA_SHOP_PRODUCT_URL`` with
``{sku}``/``{product_id}`` filled in. ``item.url`` is that page as a tracked click redirect (in the text part
as much as in the HTML one), ``item.product_url`` the page itself. ``item.reason_text`` holds the reason in
words per language (``en``, ``ja``): a template shows the one of its own language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from kizuna.channels.base import OutboxDelivery, Recipient, RenderContext
from kizuna.channels.email_tracking import LinkSigner

DEFAULT_TEMPLATE = "default"
#: The languages recommended items carry their reason in (``reason_text``).
LANGUAGES = ("en", "ja")


def yen(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"¥{value:,.0f}"
    return str(value)


def product_url(item: Mapping[str, Any], pattern: str | None) -> str | None:
    """Where an item's link goes: the payload's own ``url``, else ``pattern`` (``KIZUNA_SHOP_PRODUCT_URL``)
    with ``{sku}`` and ``{product_id}`` filled in (percent-encoded); ``None`` when neither gives one."""
    given = item.get("url")
    if isinstance(given, str) and given:
        return given
    if pattern is None:
        return None
    url = pattern
    for name in ("sku", "product_id"):
        if f"{{{name}}}" in url:
            value = item.get(name)
            if value is None or value == "":
                return None
            url = url.replace(f"{{{name}}}", quote(str(value), safe=""))
    return url


def _reason_text(item: Mapping[str, Any]) -> dict[str, str | None]:
    """The reason in words per language (``en``, ``ja``); the reason code where the payload has no words."""
    words = item.get("reason_text")
    words = words if isinstance(words, Mapping) else {}
    fallback = item.get("reason")
    return {
        lang: str(words.get(lang) or fallback) if words.get(lang) or fallback else None for lang in LANGUAGES
    }


def _items(
    payload: Mapping[str, Any], pattern: str | None = None, signer: LinkSigner | None = None
) -> list[dict[str, Any]]:
    """The payload's recommended items (``recommend.items``, or a ``recommend`` list), each with a title,
    its product page (``product_url``) and that page as a tracked link (``url``) when ``signer`` is given."""
    found = payload.get("recommend")
    if isinstance(found, Mapping):
        found = found.get("items")
    items: list[dict[str, Any]] = []
    for item in found if isinstance(found, list) else []:
        if not isinstance(item, Mapping):
            continue
        title = item.get("title") or item.get("sku") or f"#{item.get('product_id', '?')}"
        page = product_url(item, pattern)
        tracked = signer.click_url(page) if signer is not None and page and signer.tracks(page) else page
        items.append(
            {
                "title": str(title),
                "price": item.get("price"),
                "currency": item.get("currency"),
                "reason": item.get("reason"),
                "reason_text": _reason_text(item),
                "url": tracked,
                "product_url": page,
                "image_url": item.get("image_url"),
                "sku": item.get("sku"),
                "product_id": item.get("product_id"),
            }
        )
    return items


def template_variables(
    delivery: OutboxDelivery,
    recipient: Recipient,
    context: RenderContext,
    unsubscribe_url: str,
    *,
    signer: LinkSigner | None = None,
    shop_product_url: str | None = None,
) -> dict[str, Any]:
    """What a template sees.

    ``customer`` (``name``, ``greeting``: "<name> 様" or "お客様", ``external_id``, ``email``),
    ``recommendations`` (items with ``title``, ``price``, ``currency``, ``reason``, ``reason_text`` (``en``,
    ``ja``), ``url`` (the tracked link), ``product_url`` (the page itself), ``image_url``, ``sku``,
    ``product_id``; missing ones are ``None``), ``coupon`` (code or ``None``), ``scenario``, ``template``,
    ``key``, ``unsubscribe_url``, ``open_pixel_url`` (``None`` without ``signer``), ``now`` and ``payload``
    (the whole payload). Filter ``yen`` formats a price.
    """
    coupon = delivery.payload.get("coupon")
    return {
        "customer": {
            "name": recipient.name,
            "greeting": f"{recipient.name} 様" if recipient.name else "お客様",
            "external_id": recipient.external_id,
            "email": recipient.email,
        },
        "recommendations": _items(delivery.payload, shop_product_url, signer),
        "coupon": str(coupon) if coupon else None,
        "scenario": context.scenario,
        "template": delivery.template or DEFAULT_TEMPLATE,
        "key": delivery.key,
        "unsubscribe_url": unsubscribe_url,
        "open_pixel_url": signer.open_pixel_url() if signer is not None else None,
        "now": context.now,
        "payload": dict(delivery.payload),
    }
