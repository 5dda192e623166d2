"""Web slots as data: what each ``data-kizuna-slot`` element on a site may show, in YAML a marketer edits.

The file (``KIZUNA_WEB_SLOTS_FILE``; unset: the one shipped with kizuna, which the demo shop uses)::

    product_url: /p/{sku}            # where a recommended product links to ({sku} is filled in)
    slots:
      home-for-you:    {kind: recommendations, algorithm: default, n: 4, context: none}
      product-related: {kind: recommendations, algorithm: default, n: 4, context: product}
      home-hero:
        kind: content
        segments: [{segment: vip, content: {title: ..., body: ...}}]   # first match wins
        first_visit: {title: {ja: ようこそ, en: Welcome}, link: /about, cta: ...}
        returning: {title: ...}
        templates: {first-visit: {...}}   # content for scenario sends (channel web, this slot, template)
        default: {title: ...}
      welcome-popup: {kind: popup, trigger: scroll, scroll_percent: 50, first_visit: {...}}

Content is data — title, body, image, link, call to action — never markup: the snippet puts each text into the
page with ``textContent``, and links and images must be ``http(s)://`` URLs or paths starting with ``/``.
Texts are a string or one string per language (``{ja: ..., en: ...}``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kizuna.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_URL = re.compile(r"^(https?://[^\s]+|/[^\s]*)$")

#: A text: the same in every language, or one per language code (``ja``, ``en``).
Text = str | dict[str, str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _safe_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not _URL.match(value) or value.startswith("//"):
        raise ValueError("expected an http:// or https:// URL, or a path starting with /")
    return value


class Content(_Strict):
    """What a content slot or pop-up shows: plain texts and URLs, no markup."""

    title: Text | None = None
    body: Text | None = None
    image: str | None = Field(default=None, max_length=2_000)
    link: str | None = Field(default=None, max_length=2_000)
    cta: Text | None = None

    _urls = field_validator("image", "link")(_safe_url)

    def localised(self, lang: str) -> dict[str, str]:
        """The content with each text in ``lang`` (or the first language given), fields left empty dropped."""
        out: dict[str, str] = {}
        for name in ("title", "body", "image", "link", "cta"):
            value = getattr(self, name)
            text = pick_language(value, lang) if isinstance(value, dict) else value
            if text:
                out[name] = text
        return out


def pick_language(text: Text | None, lang: str) -> str | None:
    """``text`` in ``lang``; otherwise in Japanese, English or the first language it has."""
    if text is None or isinstance(text, str):
        return text
    for choice in (lang, "ja", "en"):
        if choice in text:
            return text[choice]
    return next(iter(text.values()), None)


class SegmentVariant(_Strict):
    """Content for the members of a segment."""

    segment: str = Field(min_length=1, max_length=100)
    content: Content


class _Variants(_Strict):
    """Variants chosen in order: a scenario's send, segments (in order), first or returning visit, default."""

    segments: list[SegmentVariant] = Field(default_factory=list)
    first_visit: Content | None = None
    returning: Content | None = None
    templates: dict[str, Content] = Field(default_factory=dict)
    default: Content | None = None


class RecommendationsSlot(_Strict):
    """Recommended products: "for you" (``context: none``) or related to the page's product."""

    kind: Literal["recommendations"]
    algorithm: str = Field(default="default", min_length=1, max_length=64)
    n: int = Field(default=4, ge=1, le=20)
    context: Literal["product", "none"] = "none"
    title: Text | None = None
    default: Content | None = None


class ContentSlot(_Variants):
    """A banner or block of content."""

    kind: Literal["content"]


class PopupSlot(_Variants):
    """A pop-up shown once per browser session, on arrival, after scrolling or on exit intent."""

    kind: Literal["popup"]
    trigger: Literal["arrival", "scroll", "exit_intent"] = "arrival"
    scroll_percent: int = Field(default=50, ge=1, le=100)


Slot = Annotated[RecommendationsSlot | ContentSlot | PopupSlot, Field(discriminator="kind")]


class SlotsFile(_Strict):
    """A site's slots, by name."""

    product_url: str = Field(default="/p/{sku}", max_length=2_000)
    slots: dict[str, Slot] = Field(default_factory=dict)

    _product_url = field_validator("product_url")(_safe_url)

    @field_validator("slots")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"slot name {name!r}: use letters, digits, '-', '_' or '.' (100 at most)")
        return value

    def url_of(self, sku: str) -> str:
        """The page of product ``sku``."""
        return self.product_url.replace("{sku}", quote(sku, safe=""))


def default_slots_path() -> Path:
    """The slots file shipped with kizuna (used by the demo shop)."""
    return Path(str(files("kizuna.web") / "defaults" / "slots.yaml"))


_BRANCHES = {"recommendations", "content", "popup", "str"}


def _where(loc: tuple[int | str, ...]) -> str:
    # pydantic names the union branch it tried ("content", "dict[str,str]"): the user wrote none of them.
    return ".".join(str(p) for p in loc if p not in _BRANCHES and not str(p).startswith("dict["))


def parse_slots(data: Any, source: str) -> SlotsFile:
    """Decoded YAML as a :class:`SlotsFile`; ConfigError naming ``source`` and the field otherwise."""
    try:
        return SlotsFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = [f"{_where(e['loc']) or 'the file'}: {e['msg']}" for e in exc.errors()[:5]]
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None


def read_yaml(path: Path) -> Any:
    """Decoded YAML of ``path``; ConfigError naming the file (and line) when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc


def load_slots(path: Path | None = None) -> SlotsFile:
    """The slots in ``path`` (default: the shipped file), read again only when the file changes."""
    chosen = path or default_slots_path()
    try:
        mtime = chosen.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"{chosen}: cannot be read ({exc.strerror}); check KIZUNA_WEB_SLOTS_FILE") from exc
    return _load(chosen, mtime)


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: int) -> SlotsFile:
    return parse_slots(read_yaml(path), str(path))
