"""The slots file: validated, with errors naming the file and the field; content is data, never markup."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kizuna.errors import ConfigError
from kizuna.web.slots import ContentSlot, load_slots, parse_slots


def test_the_shipped_file_is_valid_and_serves_the_demo_shop() -> None:
    found = load_slots()
    assert {"home-for-you", "product-related", "home-hero", "welcome-popup"} <= set(found.slots)
    assert found.url_of("DEMO-SKL-01M") == "/demo/shop/p/DEMO-SKL-01M"


@pytest.mark.parametrize(
    ("slot", "field"),
    [
        ({"kind": "content", "first_visit": {"link": "javascript:alert(1)"}}, "slots.x.first_visit.link"),
        ({"kind": "content", "default": {"image": "//evil.example/x.png"}}, "slots.x.default.image"),
        ({"kind": "popup", "trigger": "hover"}, "slots.x.trigger"),
        ({"kind": "recommendations", "n": 0}, "slots.x.n"),
        ({"kind": "content", "first_visit": {"html": "<b>hi</b>"}}, "slots.x.first_visit.html"),
        ({"kind": "banner"}, "slots.x"),
    ],
)
def test_bad_slots_name_the_file_and_field(slot: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_slots({"slots": {"x": slot}}, "site/slots.yaml")
    assert str(caught.value).startswith(f"site/slots.yaml: {field}")


def test_a_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "slots.yaml"
    path.write_text("slots:\n  a: {kind: content, default: {title: one}}\n", encoding="utf-8")
    first = load_slots(path).slots["a"]
    assert isinstance(first, ContentSlot) and first.default is not None and first.default.title == "one"
    path.write_text(
        "slots:\n  a: {kind: content, default: {title: two}}\n  b: {kind: popup}\n", encoding="utf-8"
    )
    os.utime(path, ns=(1, 10**18))
    assert set(load_slots(path).slots) == {"a", "b"}
    path.write_text("slots: [\n", encoding="utf-8")
    os.utime(path, ns=(1, 2 * 10**18))
    with pytest.raises(ConfigError, match=r"slots.yaml, line \d+: not valid YAML"):
        load_slots(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_slots(tmp_path / "missing.yaml")


def test_texts_pick_the_pages_language() -> None:
    found = parse_slots(
        {
            "slots": {
                "x": {
                    "kind": "content",
                    "default": {"title": {"ja": "こんにちは", "en": "Hi"}, "body": "本文"},
                }
            }
        },
        "f",
    )
    slot = found.slots["x"]
    assert isinstance(slot, ContentSlot) and slot.default is not None
    assert slot.default.localised("en") == {"title": "Hi", "body": "本文"}
    assert slot.default.localised("fr") == {"title": "こんにちは", "body": "本文"}
