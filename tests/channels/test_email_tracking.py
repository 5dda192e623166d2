"""Tracking in emails: the open pixel and click redirects in the HTML, product links, reasons per language."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from channel_contract import NOW, RECIPIENT, sample_delivery

from kizuna.channels.base import RenderContext
from kizuna.channels.email import EmailChannel
from kizuna.channels.email_tracking import LinkSigner, track_html
from kizuna.channels.email_variables import product_url
from kizuna.channels.tokens import LinkTokenError, read_link_token
from kizuna.config import Settings

SECRET = "tracking-secret-0123456789"
BASE = "https://kizuna.example.jp"
ITEMS = [
    {
        "product_id": 7,
        "sku": "TEA 07",
        "title": "緑茶",
        "price": 1200,
        "reason": "bought_together",
        "reason_text": {"en": "Often bought with a teapot", "ja": "急須と一緒によく買われています"},
    },
    {
        "product_id": 8,
        "sku": "POT-1",
        "title": "急須",
        "price": 3500,
        "url": "https://other.example.jp/pot?a=1&b=2",
    },
]


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if tag == "img" and values.get("src"):
            self.images.append(str(values["src"]))


def _parts(body: bytes) -> tuple[str, str]:
    message = message_from_bytes(body, policy=default)
    assert isinstance(message, EmailMessage)
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None and text is not None
    return str(html.get_content()), str(text.get_content())


def _links(markup: str) -> _Anchors:
    found = _Anchors()
    found.feed(markup)
    return found


def _channel(templates_dir: Path | None = None, **extra: Any) -> EmailChannel:
    return EmailChannel(
        host="127.0.0.1",
        from_address="news@shop.example.jp",
        public_base_url=BASE,
        unsubscribe_secret=SECRET,
        shop_product_url="https://shop.example.jp/p/{sku}",
        templates_dir=templates_dir,
        **extra,
    )


def _click_target(href: str, key: str) -> str:
    """The URL a click redirect leads to, after checking that its token signs exactly that URL."""
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}" == BASE and parts.path.startswith("/v1/c/")
    [target] = parse_qs(parts.query)["u"]
    assert read_link_token(parts.path.rsplit("/", 1)[1], SECRET, "click", url=target) == key
    return target


def test_links_are_rewritten_except_unsubscribe_mail_phone_anchors_and_opt_outs() -> None:
    signer = LinkSigner(BASE, "1:send:2:once:1", SECRET)
    markup = (
        "<html><body>\n<p class=x>Hi &amp; welcome</p>\n"
        '<a href="https://shop.example.jp/sale?a=1&amp;b=2" class="btn">Sale</a>\n'
        "<A HREF='http://shop.example.jp/news'>News</A>"
        '<a href="mailto:help@shop.example.jp">mail</a><a href="tel:0312345678">call</a>'
        '<a href="#top">top</a><a href="https://shop.example.jp/terms" data-kizuna-notrack>terms</a>\n'
        f'<a href="{BASE}/v1/unsubscribe/abc">stop</a><!-- <a href="https://x.example/">not a link</a> -->\n'
        "</body></html>"
    )
    tracked = track_html(markup, signer)
    found = _links(tracked)
    targets = [_click_target(h, signer.key) for h in found.hrefs[:2]]
    assert targets == ["https://shop.example.jp/sale?a=1&b=2", "http://shop.example.jp/news"]
    assert found.hrefs[2:] == [
        "mailto:help@shop.example.jp",
        "tel:0312345678",
        "#top",
        "https://shop.example.jp/terms",
        f"{BASE}/v1/unsubscribe/abc",
    ]
    assert "data-kizuna-notrack" not in tracked and 'class="btn"' in tracked
    assert '<!-- <a href="https://x.example/">not a link</a> -->' in tracked  # comments untouched
    assert "<p class=x>Hi &amp; welcome</p>" in tracked  # the rest of the markup as it was
    assert found.images == [signer.open_pixel_url()]
    assert tracked.index(signer.open_pixel_url()) < tracked.index("</body>")
    assert read_link_token(signer.open_pixel_url().rsplit("/", 1)[1][:-4], SECRET, "open") == signer.key


def test_the_pixel_is_added_once_and_at_the_end_when_there_is_no_body() -> None:
    signer = LinkSigner(BASE, "k", SECRET)
    once = track_html("<p>hi</p>", signer)
    assert once.startswith("<p>hi</p><img ") and _links(once).images == [signer.open_pixel_url()]
    assert track_html(once, signer).count(signer.open_pixel_url()) == 1


def test_the_rendered_email_has_the_pixel_and_tracked_product_links() -> None:
    delivery = replace(sample_delivery("email", "cart-reminder"), payload={"recommend": {"items": ITEMS}})
    rendered = _channel().render(delivery, RECIPIENT, RenderContext(NOW, "cart"))
    html, text = _parts(rendered.body)
    found = _links(html)
    [pixel] = found.images
    assert (
        read_link_token(urlsplit(pixel).path.rsplit("/", 1)[1].removesuffix(".gif"), SECRET, "open")
        == delivery.key
    )
    products = [h for h in found.hrefs if "/v1/unsubscribe/" not in h]
    assert [_click_target(h, delivery.key) for h in products] == [
        "https://shop.example.jp/p/TEA%2007",
        "https://other.example.jp/pot?a=1&b=2",
    ]
    for href in products:  # the text part links the same tracked URLs
        assert href in text
    assert "急須と一緒によく買われています" in html and "急須と一緒によく買われています" in text
    with pytest.raises(LinkTokenError):
        read_link_token(
            urlsplit(products[0]).path.rsplit("/", 1)[1], SECRET, "click", url="https://evil.example/"
        )


def test_english_templates_show_the_english_reason() -> None:
    delivery = replace(sample_delivery("email", "default-en"), payload={"recommend": {"items": ITEMS}})
    rendered = _channel().render(delivery, RECIPIENT, RenderContext(NOW))
    html, text = _parts(rendered.body)
    assert message_from_bytes(rendered.body, policy=default)["Subject"] == "News from us"
    for part in (html, text):
        assert "Often bought with a teapot" in part and "急須と一緒に" not in part
        assert "Dear 山田 花子" in part
    assert '<html lang="en">' in html


def test_a_designers_template_without_the_pixel_gets_it_before_the_body_ends(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text(
        "Subject: Hello\n\n{% for i in recommendations %}{{ i.url }}\n{% endfor %}"
    )
    (tmp_path / "plain.html").write_text(
        '<html><body><a href="https://shop.example.jp/">shop</a>'
        "{% for i in recommendations %}<a href='{{ i.product_url }}'>{{ i.title }}</a>{% endfor %}"
        "</body></html>"
    )
    delivery = replace(sample_delivery("email", "plain"), payload={"recommend": {"items": ITEMS[:1]}})
    rendered = _channel(tmp_path).render(delivery, RECIPIENT, RenderContext(NOW))
    html, _ = _parts(rendered.body)
    found = _links(html)
    assert [_click_target(h, delivery.key) for h in found.hrefs] == [
        "https://shop.example.jp/",
        "https://shop.example.jp/p/TEA%2007",
    ]
    assert len(found.images) == 1 and html.index(found.images[0]) < html.index("</body>")


def test_product_urls_come_from_the_item_or_the_shop_pattern() -> None:
    assert (
        product_url({"sku": "A/1", "url": "https://x.example/a"}, "https://s.example/p/{sku}")
        == "https://x.example/a"
    )
    assert product_url({"sku": "A/1"}, "https://s.example/p/{sku}") == "https://s.example/p/A%2F1"
    assert product_url({"product_id": 5}, "https://s.example/p/{product_id}") == "https://s.example/p/5"
    assert product_url({"product_id": 5}, "https://s.example/p/{sku}") is None
    assert product_url({"sku": "A"}, None) is None
    with pytest.raises(ValueError, match="shop_product_url"):
        Settings(shop_product_url="https://s.example/p/")
    with pytest.raises(ValueError, match="attribution_windows"):
        Settings(attribution_windows={"email": 0})
