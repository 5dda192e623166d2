"""The two catalogues hold the same keys, and every key the templates and pages use is in them."""

from __future__ import annotations

import re
from pathlib import Path

import kizuna.dashboard as dashboard
from kizuna.dashboard.builder import KINDS as BUILDER_KINDS
from kizuna.dashboard.builder import OPERATORS
from kizuna.dashboard.i18n import catalogue, from_accept_language, translate
from kizuna.dashboard.pages.privacy import KINDS as PRIVACY_KINDS
from kizuna.privacy.consent import Purpose, Status
from kizuna.store.dashboard import ROLES
from kizuna.store.direct_mail import APPROVED, PRINTED, RENDERED

ROOT = Path(dashboard.__file__).parent
STATIC_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")
PREFIX_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+\.)["']\s*~""")
RETURNED_KEY = re.compile(r"""["']((?:login|privacy|customer|error)\.[a-z_.]+)["']""")


def _sources() -> list[Path]:
    return [*ROOT.glob("templates/*.html"), *ROOT.glob("*.py"), *ROOT.glob("pages/*.py")]


def test_both_catalogues_have_the_same_keys_and_no_empty_strings() -> None:
    english, japanese = catalogue("en"), catalogue("ja")
    assert set(english) == set(japanese)
    assert all(v.strip() for v in [*english.values(), *japanese.values()])
    assert english["nav.customers"] != japanese["nav.customers"]


def test_every_key_used_exists() -> None:
    used = set()
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        used |= set(STATIC_KEY.findall(text))
        used |= {k for k in RETURNED_KEY.findall(text) if not k.endswith((".", ".html"))}
    assert len(used) > 100
    assert sorted(used - set(catalogue("en"))) == []


def test_every_key_built_from_a_prefix_exists() -> None:
    prefixes = set()
    for path in ROOT.glob("templates/*.html"):
        prefixes |= set(PREFIX_KEY.findall(path.read_text(encoding="utf-8")))
    values = {
        "language.": ["ja", "en"],
        "op.": list(OPERATORS),
        "purpose.": [p.value for p in Purpose],
        "role.": list(ROLES),
        "scenario_status.": ["active", "paused"],
        "status.": [s.value for s in Status],
        "segments.kind.": list(BUILDER_KINDS),
        "preview.group.": ["treated", "control", "holdout"],
        "privacy.kind.": list(PRIVACY_KINDS),
        "privacy.what.": list(PRIVACY_KINDS),
        "privacy.do.": list(PRIVACY_KINDS),
        "dm.status.": [RENDERED, APPROVED, PRINTED],
        "results.metric.": ["response_rate", "conversion_rate", "revenue_per_customer"],
    }
    assert prefixes <= set(values), f"templates build keys from unknown prefixes: {prefixes - set(values)}"
    missing = [p + v for p in prefixes for v in values[p] if p + v not in catalogue("en")]
    refusals = re.findall(
        r'Refused\("([a-z_]+)"\)', "".join(p.read_text(encoding="utf-8") for p in _sources())
    )
    assert set(refusals) == {
        "csrf",
        "viewer",
        "admin",
        "form",
        "json",
        "contacts",
        "not_approved",
        "batch_state",
    }
    missing += [f"error.refused.{r}" for r in refusals if f"error.refused.{r}" not in catalogue("en")]
    assert missing == []


def test_placeholders_are_filled_in_either_language() -> None:
    assert translate("en", "scenario.waiting", n="1,234") == "1,234 waiting"
    assert translate("ja", "scenario.waiting", n="3") == "3 人待機中"


def test_accept_language_picks_the_preferred_of_ours() -> None:
    assert from_accept_language("ja-JP,ja;q=0.9,en;q=0.8") == "ja"
    assert from_accept_language("fr-FR,en;q=0.5,ja;q=0.7") == "ja"
    assert from_accept_language("de-DE") == "en"
    assert from_accept_language(None) == "en"
