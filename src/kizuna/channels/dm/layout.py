"""Direct mail layouts: YAML files a designer edits, validated into typed blocks positioned in millimetres.

A layout names the finished (trim) size, the language of reason texts, and one or more pages (a postcard
has an address side and a message side); each page holds blocks placed by ``x``/``y`` (from the top left
corner of the finished piece), ``width`` and ``height``, all in mm. Block types: ``text`` (Jinja2 text run
in the sandbox), ``rect``, ``address``, ``barcode``, ``items``, ``coupon`` and ``qr``; see
``docs/direct-mail.md`` for their fields. Layouts ship in ``kizuna/channels/dm/templates``;
``KIZUNA_DM_TEMPLATES_DIR`` holds a designer's own, and a file there replaces a shipped one of the same name.
A file that is not a valid layout raises :class:`~kizuna.errors.ConfigError` naming the file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kizuna.config import Settings, get_settings
from kizuna.errors import ConfigError

TEMPLATES_DIR = Path(__file__).with_name("templates")
DEFAULT_LAYOUT = "postcard"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")

Colour = Annotated[str, Field(pattern=_COLOUR.pattern)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Box(_Strict):
    """Where a block goes: its top left corner and size in mm, measured from the finished piece's top left."""

    x: float = Field(ge=-10, le=500)
    y: float = Field(ge=-10, le=500)
    width: float = Field(gt=0, le=500)
    height: float = Field(gt=0, le=500)


class TextBlock(Box):
    """Text from a Jinja2 template (sandboxed), wrapped to the box and shrunk to fit down to ``min_size``."""

    type: Literal["text"]
    text: str = Field(min_length=1)
    size: float = Field(default=9, gt=0, le=200)
    min_size: float = Field(default=5, gt=0, le=200)
    leading: float = Field(default=1.35, ge=1, le=3)
    align: Literal["left", "center", "right"] = "left"
    colour: Colour = "#000000"


class RectBlock(Box):
    """A filled (and optionally outlined) rectangle; ``bleed: true`` stretches edges on the trim line into
    the bleed, so a background prints to the paper's edge."""

    type: Literal["rect"]
    fill: Colour | None = None
    stroke: Colour | None = None
    line_width: float = Field(default=0.3, gt=0, le=10)
    bleed: bool = False


class AddressBlock(Box):
    """The recipient: 〒 postal code, address lines and the name with 様, written vertically (縦書き: columns
    right to left) or horizontally."""

    type: Literal["address"]
    direction: Literal["vertical", "horizontal"] = "vertical"
    size: float = Field(default=11, gt=0, le=72)
    name_size: float = Field(default=20, gt=0, le=96)
    min_size: float = Field(default=6, gt=0, le=72)


class BarcodeBlock(_Strict):
    """The Japan Post customer barcode; ``height`` is the long bar in mm (3.6 at the standard 10 pt)."""

    type: Literal["barcode"]
    x: float = Field(ge=0, le=500)
    y: float = Field(ge=0, le=500)
    height: float = Field(default=3.6, ge=2.88, le=4.14)


class ItemsBlock(Box):
    """Recommended products side by side: image (or placeholder), title, price and reason text."""

    type: Literal["items"]
    count: int = Field(default=3, ge=1, le=12)
    size: float = Field(default=7, gt=0, le=48)
    min_size: float = Field(default=4.5, gt=0, le=48)
    image_height: float = Field(default=18, ge=0, le=300)
    gap: float = Field(default=3, ge=0, le=50)


class CouponBlock(Box):
    """A framed box with a label (Jinja2 text) and the piece's coupon code; left out when there is none."""

    type: Literal["coupon"]
    label: str = "クーポンコード"
    size: float = Field(default=12, gt=0, le=72)
    min_size: float = Field(default=6, gt=0, le=72)
    stroke: Colour = "#000000"


class QrBlock(_Strict):
    """The QR code of the piece's tracked URL, ``size`` mm square, drawn as vector; optional caption."""

    type: Literal["qr"]
    x: float = Field(ge=0, le=500)
    y: float = Field(ge=0, le=500)
    size: float = Field(default=18, ge=8, le=200)
    caption: str | None = None
    caption_size: float = Field(default=6, gt=0, le=48)


Block = Annotated[
    TextBlock | RectBlock | AddressBlock | BarcodeBlock | ItemsBlock | CouponBlock | QrBlock,
    Field(discriminator="type"),
]


class Page(_Strict):
    """One side of the piece: an optional background colour (printed into the bleed) and its blocks."""

    name: str = Field(min_length=1, max_length=40)
    background: Colour | None = None
    blocks: list[Block] = Field(default_factory=list)


class Layout(_Strict):
    """A direct mail layout: finished size in mm, reason-text language, and the pages of one piece."""

    name: str
    description: str = ""
    width: float = Field(gt=20, le=600)
    height: float = Field(gt=20, le=900)
    lang: Literal["ja", "en"] = "ja"
    pages: list[Page] = Field(min_length=1, max_length=8)
    source: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("letters, digits, '-', '_' or '.', starting with a letter or digit")
        return value

    @model_validator(mode="after")
    def _inside(self) -> Layout:
        for page in self.pages:
            for i, block in enumerate(page.blocks):
                x, y = block.x, block.y
                w = getattr(block, "width", getattr(block, "size", 0))
                h = getattr(block, "height", getattr(block, "size", 0))
                if x + w > self.width + 10 or y + h > self.height + 10:
                    raise ValueError(
                        f"pages[{page.name}].blocks[{i}] ({block.type}) reaches outside the "
                        f"{self.width:g}×{self.height:g} mm piece"
                    )
        return self

    @property
    def size_label(self) -> str:
        """The finished size, e.g. ``100×148 mm``."""
        return f"{self.width:g}×{self.height:g} mm"


def _folders(settings: Settings) -> list[Path]:
    own = settings.dm_templates_dir
    if own is not None and not own.is_dir():
        raise ConfigError(f"KIZUNA_DM_TEMPLATES_DIR: no folder {str(own)!r}")
    return [own, TEMPLATES_DIR] if own is not None else [TEMPLATES_DIR]


def layout_names(settings: Settings | None = None) -> list[str]:
    """The names of every layout available: shipped ones and the designer's own."""
    names = {p.stem for folder in _folders(settings or get_settings()) for p in folder.glob("*.yaml")}
    return sorted(names)


def find_layout(name: str, settings: Settings | None = None) -> Path | None:
    """The file of layout ``name`` (the designer's folder first), or ``None``."""
    if not _NAME.fullmatch(name):
        return None
    for folder in _folders(settings or get_settings()):
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    return None


def load_layout(name: str, settings: Settings | None = None) -> Layout:
    """Layout ``name``, read and validated; ConfigError naming the file and field when it is not valid."""
    settings = settings or get_settings()
    path = find_layout(name, settings)
    if path is None:
        raise ConfigError(
            f"no direct mail layout {name!r}: use one of {', '.join(layout_names(settings))} "
            "or add <name>.yaml to KIZUNA_DM_TEMPLATES_DIR"
        )
    return read_layout(path)


def read_layout(path: Path) -> Layout:
    """The layout in the YAML file at ``path``; ConfigError naming the file and the field at fault."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"direct mail layout {path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"direct mail layout {path}: expected a mapping with name, width, height, pages")
    data.setdefault("name", path.stem)
    try:
        return Layout.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(
            f"direct mail layout {path}: field {field}: {first['msg']} (got {first.get('input')!r:.80})"
        ) from exc
