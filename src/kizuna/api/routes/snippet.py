"""``/kizuna.js``, the first-party tracking snippet, and the public page listing what it sends and to whom."""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kizuna.api.deps import SettingsDep
from kizuna.config import Settings
from kizuna.privacy.consent import default_allows
from kizuna.privacy.transmission import transmission_notice

router = APIRouter(tags=["snippet"])

_DEFAULTS = re.compile(r"/\*KIZUNA_DEFAULTS\*/.*?/\*END\*/", re.DOTALL)


@lru_cache(maxsize=1)
def _source() -> str:
    return (files("kizuna.api") / "static" / "kizuna.js").read_text(encoding="utf-8")


def snippet_defaults(settings: Settings) -> dict[str, object]:
    """The settings the snippet starts from; a page overrides them with data-* attributes."""
    consent = settings.snippet_consent or ("opt-out" if default_allows("tracking", settings) else "opt-in")
    return {
        "consent": consent,
        "cookieDays": settings.snippet_cookie_days,
        "visitMinutes": settings.snippet_visit_minutes,
        "personalise": "opt-out" if default_allows("personalisation", settings) else "opt-in",
    }


def snippet_source(settings: Settings) -> str:
    """The snippet's JavaScript with this installation's defaults."""
    return _DEFAULTS.sub(lambda _: json.dumps(snippet_defaults(settings)), _source(), count=1)


@router.get("/kizuna.js", summary="The tracking snippet", response_class=Response)
def snippet(settings: SettingsDep) -> Response:
    """The first-party tracking snippet; load it with
    ``<script src="https://KIZUNA/kizuna.js" data-write-key="kzw_..." async></script>``."""
    return Response(
        snippet_source(settings),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


_TITLE = {"ja": "外部送信に関する公表事項", "en": "Information sent from your browser"}
_HEAD = {
    "ja": ("送信される情報", "内容", "送信先", "利用目的"),
    "en": ("Information", "What is sent", "Recipient", "Purpose"),
}


def _section(settings: Settings, server: str, lang: str) -> str:
    head = "".join(f"<th>{h}</th>" for h in _HEAD[lang])
    rows = []
    for item in transmission_notice(settings, server=server):
        texts = item.in_language(lang)
        cells = (texts["name"], texts["data_sent"], texts["recipient"], texts["purpose"])
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return (
        f'<section lang="{lang}"><h1>{_TITLE[lang]}</h1>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


@router.get("/privacy/transmission", summary="What the snippet sends, to whom and why", response_model=None)
def transmission(
    request: Request,
    settings: SettingsDep,
    lang: Annotated[Literal["ja", "en", "both"], Query()] = "both",
    format: Annotated[Literal["html", "json"], Query()] = "html",
) -> Response:
    """The external-transmission notice (電気通信事業法 第27条の12) as a page a site links to; ``format=json``
    gives the same items as data."""
    server = request.url.netloc
    if format == "json":
        languages = ["ja", "en"] if lang == "both" else [lang]
        items = [
            {language: item.in_language(language) for language in languages}
            for item in transmission_notice(settings, server=server)
        ]
        return Response(json.dumps({"items": items}, ensure_ascii=False), media_type="application/json")
    sections = "".join(_section(settings, server, x) for x in (["ja", "en"] if lang == "both" else [lang]))
    page = (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_TITLE['ja']} / {_TITLE['en']}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.6}"
        "table{border-collapse:collapse;width:100%;margin-bottom:2rem}"
        "th,td{border:1px solid #ccc;padding:.5rem;text-align:left;vertical-align:top}"
        f"th{{background:#f4f4f4}}</style></head><body>{sections}</body></html>"
    )
    return HTMLResponse(page)
