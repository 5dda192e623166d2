"""Layouts: shipped ones load, a designer's folder overrides them, and errors name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.channels.dm.draw import PieceRenderer
from kizuna.channels.dm.layout import TEMPLATES_DIR, layout_names, load_layout
from kizuna.channels.dm.sheet import PrintOptions
from kizuna.channels.dm.typeset import postal_display, with_honorific, wrap
from kizuna.config import Settings
from kizuna.errors import ConfigError


def test_shipped_layouts_load() -> None:
    assert {"postcard", "a4-letter"} <= set(layout_names(Settings()))
    postcard = load_layout("postcard", Settings())
    assert (postcard.width, postcard.height, [p.name for p in postcard.pages]) == (
        100,
        148,
        ["address", "message"],
    )


def test_a_designers_file_replaces_the_shipped_one(tmp_path: Path) -> None:
    text = (TEMPLATES_DIR / "postcard.yaml").read_text(encoding="utf-8").replace("lang: ja", "lang: en")
    (tmp_path / "postcard.yaml").write_text(text, encoding="utf-8")
    assert load_layout("postcard", Settings(dm_templates_dir=tmp_path)).lang == "en"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("size: 12", "size: -1"), "pages.0.blocks.0.address.size"),
        (("type: qr", "type: hologram"), "pages.1.blocks.5"),
        (("width: 100", "width: a hundred"), "width"),
    ],
)
def test_an_invalid_layout_names_the_file_and_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    text = (TEMPLATES_DIR / "postcard.yaml").read_text(encoding="utf-8").replace(*change, 1)
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_layout("broken", Settings(dm_templates_dir=tmp_path))
    assert "broken.yaml" in str(caught.value) and f"field {field}" in str(caught.value)


def test_a_template_syntax_error_names_the_file_and_field(tmp_path: Path) -> None:
    text = (
        (TEMPLATES_DIR / "postcard.yaml")
        .read_text(encoding="utf-8")
        .replace("{{ greeting }}", "{{ greeting ")
    )
    (tmp_path / "typo.yaml").write_text(text, encoding="utf-8")
    layout = load_layout("typo", Settings(dm_templates_dir=tmp_path))
    with pytest.raises(ConfigError, match=r"typo\.yaml: field pages\[1\]\.blocks\[2\]\.text"):
        PieceRenderer(layout, "Helvetica", PrintOptions())


def test_names_get_one_honorific_and_postal_codes_a_mark() -> None:
    assert with_honorific("山田  花子") == "山田 花子 様"
    assert with_honorific("山田 花子 様") == "山田 花子 様"
    assert with_honorific("株式会社キズナ 御中") == "株式会社キズナ 御中"
    assert postal_display("1000001") == "〒100-0001" == postal_display("〒１００－０００１")


def test_lines_break_between_numbers_not_inside_them() -> None:
    def width(text: str, size: float) -> float:
        return len(text) * size

    lines = wrap("東京都千代田区千代田123-45", 10 * 10, 10, width)
    assert lines == ["東京都千代田区千代田", "123-45"]
    assert wrap("お買い物、ありがとう。", 5 * 10, 10, width)[1][0] != "、"
