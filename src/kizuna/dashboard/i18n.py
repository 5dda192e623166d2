"""The dashboard's two languages: catalogues of UI strings (``locales/ja.json`` and ``locales/en.json``) and
the choice of language for a request.

Keys are dotted (``nav.customers``); values may hold ``{name}`` placeholders filled by :func:`translate`. Both
catalogues must have the same keys (a test checks it, and that every key the templates use exists).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "en"
_LOCALES = Path(__file__).with_name("locales")


@cache
def catalogue(language: str) -> dict[str, str]:
    """The strings of ``language`` by key."""
    data: dict[str, str] = json.loads((_LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    return data


def translate(language: str, key: str, **values: object) -> str:
    """The string for ``key`` in ``language`` (English when missing there, the key itself as a last resort),
    with ``{name}`` placeholders filled from ``values``."""
    text = catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
    return text.format(**values) if values else text


def from_accept_language(header: str | None) -> str:
    """The language the browser prefers among ours, by its q-values; English when it names neither."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best
