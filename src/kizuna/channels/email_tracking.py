"""Tracking in an email's HTML: the open pixel, and every web link turned into a signed click redirect.

The HTML is read with the standard library's ``html.parser`` and only the start tags of tracked links are
rewritten in place (found by the parser's positions); every other byte of the designer's markup is kept as it
was. A link is tracked when its ``href`` is an ``http(s)`` URL; these are left alone:

- ``mailto:``, ``tel:``, in-page anchors (``#top``) and any other scheme;
- links into kizuna's own API (``BASE/v1/...``): the unsubscribe link, and links a template already made
  tracked (``item.url``);
- links with the attribute ``data-kizuna-notrack`` (the attribute is removed from the sent HTML).

A tracked link becomes ``BASE/v1/c/TOKEN?u=<the URL, percent-encoded>``, where TOKEN is a ``click`` link
token signing the delivery key together with exactly that URL (``kizuna.channels.tokens``), so the redirect
can go nowhere else. The open pixel (``BASE/v1/o/TOKEN.gif``, an ``open`` token) goes in just before
``</body>`` (or at the end when there is none) unless the template already shows ``open_pixel_url``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote

from kizuna.channels.tokens import LinkPurpose, link_token

#: The attribute with which a template keeps one link out of click tracking.
NOTRACK = "data-kizuna-notrack"


@dataclass(frozen=True)
class LinkSigner:
    """Builds the tracking URLs of one delivery: ``BASE/v1/o/...`` and ``BASE/v1/c/...``."""

    base_url: str
    key: str
    secret: str

    def open_pixel_url(self) -> str:
        """The open pixel of this delivery."""
        return f"{self.base_url}/v1/o/{link_token(self.key, self.secret, LinkPurpose.OPEN)}.gif"

    def click_url(self, url: str) -> str:
        """A click redirect to ``url``, signed for this delivery and exactly this URL."""
        token = link_token(self.key, self.secret, LinkPurpose.CLICK, url=url)
        return f"{self.base_url}/v1/c/{token}?u={quote(url, safe='')}"

    def is_own(self, url: str) -> bool:
        """Whether ``url`` leads into kizuna's API (unsubscribe, pixel, an already tracked link)."""
        return url.startswith(f"{self.base_url}/v1/")

    def tracks(self, url: str) -> bool:
        """Whether a link to ``url`` is to become a click redirect."""
        return url.lower().startswith(("http://", "https://")) and not self.is_own(url)


def pixel_tag(url: str) -> str:
    """The ``<img>`` of an open pixel: 1×1, no border, hidden from screen readers."""
    return (
        f'<img src="{html.escape(url)}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px" aria-hidden="true">'
    )


class _Links(HTMLParser):
    """Finds the ``<a>`` start tags to rewrite (line, column, old text, new text) and where ``</body>`` is."""

    def __init__(self, signer: LinkSigner) -> None:
        super().__init__(convert_charrefs=True)
        self.signer = signer
        self.edits: list[tuple[int, int, str, str]] = []
        self.body_end: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._link(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._link(tag, attrs, closed=True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self.body_end = self.getpos()

    def _link(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        if tag != "a":
            return
        original = self.get_starttag_text()
        if original is None:
            return
        names = [name for name, _ in attrs]
        href = next((value for name, value in attrs if name == "href"), None)
        if NOTRACK in names:
            kept = [(n, v) for n, v in attrs if n != NOTRACK]
        elif href is not None and self.signer.tracks(href.strip()):
            target = self.signer.click_url(href.strip())
            kept = [(n, target if n == "href" else v) for n, v in attrs]
        else:
            return
        line, column = self.getpos()
        self.edits.append((line, column, original, _start_tag(tag, kept, closed)))


def _start_tag(tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> str:
    parts = [tag] + [name if value is None else f'{name}="{html.escape(value)}"' for name, value in attrs]
    return f"<{' '.join(parts)}{' /' if closed else ''}>"


def _offsets(text: str) -> list[int]:
    """The offset at which each line (1-based, as the parser counts) starts."""
    starts = [0, 0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def track_html(markup: str, signer: LinkSigner) -> str:
    """``markup`` with its web links made click redirects and the open pixel in (see the module)."""
    parser = _Links(signer)
    parser.feed(markup)
    parser.close()
    starts = _offsets(markup)
    pieces: list[str] = []
    done = 0
    pixel_url = signer.open_pixel_url()
    pixel_at: int | None = None
    if pixel_url not in markup and html.escape(pixel_url) not in markup:
        pixel_at = len(markup)
        if parser.body_end is not None:
            pixel_at = starts[parser.body_end[0]] + parser.body_end[1]
    for line, column, original, replacement in parser.edits:
        at = starts[line] + column
        if markup[at : at + len(original)] != original:  # the parser's positions are exact; be sure anyway
            continue
        if pixel_at is not None and done <= pixel_at < at:
            pieces.append(markup[done:pixel_at] + pixel_tag(pixel_url))
            done, pixel_at = pixel_at, None
        pieces.append(markup[done:at] + replacement)
        done = at + len(original)
    if pixel_at is not None and pixel_at >= done:
        pieces.append(markup[done:pixel_at] + pixel_tag(pixel_url))
        done = pixel_at
    pieces.append(markup[done:])
    return "".join(pieces)
