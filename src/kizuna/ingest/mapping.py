"""What each kind of file may contain, and how its columns map onto kizuna's fields.

A column is taken for a field when it has the field's name (or a common alias, such as ``customer_id``
for a customers file's ``external_id``), or when a mapping says so: ``--map 顧客ID=external_id`` on the
command line or a YAML file::

    columns:
      顧客ID: external_id
      氏名: name
      購入日: ordered_at

Columns that map to no field go into the entity's JSON attributes (customers, products, orders) or properties
(events), so nothing in the file is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kizuna.errors import ConfigError
from kizuna.ingest import values as v

KINDS = ("customers", "products", "orders", "events", "interactions")


@dataclass(frozen=True)
class Field:
    """One field an import fills: its parser and whether a file must have it."""

    name: str
    parse: Callable[[Any], Any]
    required: bool = False
    aliases: tuple[str, ...] = ()


def _s(max_length: int) -> Callable[[Any], str | None]:
    return lambda value: v.parse_str(value, max_length)


FIELDS: dict[str, list[Field]] = {
    "customers": [
        Field("external_id", _s(128), True, ("customer_id", "id", "user_id")),
        Field("name", _s(200)),
        Field("name_kana", _s(200), aliases=("kana", "furigana")),
        Field("email", _s(320)),
        Field("phone", _s(32), aliases=("tel", "phone_number")),
        Field("postal_code", _s(16), aliases=("zip", "zip_code", "postcode")),
        Field("country", _s(2)),
        Field("prefecture", _s(64), aliases=("state", "region")),
        Field("city", _s(128)),
        Field("address_line1", _s(256), aliases=("address1", "address")),
        Field("address_line2", _s(256), aliases=("address2",)),
        Field("birth_date", v.parse_date, aliases=("birthday", "date_of_birth")),
        Field("gender", _s(16), aliases=("sex",)),
        Field("timezone", _s(64)),
    ],
    "products": [
        Field("sku", _s(128), True, ("product_id", "item_id", "id")),
        Field("title", _s(500), True, ("name", "product_name")),
        Field("description", v.parse_str),
        Field("category_path", _s(500), aliases=("category",)),
        Field("brand", _s(200)),
        Field("price", v.parse_float),
        Field("currency", _s(3)),
        Field("image_url", _s(1000), aliases=("image",)),
        Field("in_stock", v.parse_bool),
        Field("is_trial", v.parse_bool, aliases=("trial",)),
        Field("is_subscription", v.parse_bool, aliases=("subscription",)),
    ],
    "orders": [
        Field("external_id", _s(128), True, ("order_id",)),
        Field("customer_external_id", _s(128), True, ("customer_id", "user_id")),
        Field("ordered_at", v.parse_datetime, True, ("order_date", "timestamp", "date")),
        Field("sku", _s(128), True, ("product_id", "item_id")),
        Field("quantity", v.parse_int, aliases=("qty",)),
        Field("unit_price", v.parse_float, aliases=("price",)),
        Field("discount", v.parse_float),
        Field("amount", v.parse_float, aliases=("line_total",)),
        Field("channel", _s(32)),
        Field("status", _s(32)),
        Field("currency", _s(3)),
        Field("coupon_code", _s(64), aliases=("coupon",)),
        Field("shipping", v.parse_float),
        Field("tax", v.parse_float),
    ],
    "events": [
        Field("message_id", _s(128), aliases=("messageId", "event_id")),
        Field("type", _s(16)),
        Field("name", _s(200), aliases=("event",)),
        Field("customer_external_id", _s(128), aliases=("customer_id", "user_id", "userId")),
        Field("anonymous_id", _s(128), aliases=("anonymousId",)),
        Field("occurred_at", v.parse_datetime, True, ("timestamp", "time")),
        Field("properties", v.parse_json_object),
    ],
    "interactions": [
        Field("user", _s(128), True, ("customer_id", "user_id")),
        Field("item", _s(128), True, ("product_id", "item_id", "sku")),
        Field("timestamp", v.parse_datetime, aliases=("occurred_at", "time")),
        Field("weight", v.parse_float, aliases=("rating", "value")),
        Field("kind", _s(16), aliases=("type",)),
    ],
}


def load_mapping_file(path: Path) -> dict[str, str]:
    """Read a YAML mapping: ``{source column: field}``, either flat or under a ``columns:`` key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the column mapping ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(x, str) for k, x in data.items()
    ):
        raise ConfigError(f"{path}: a column mapping must be 'source column: field' pairs (YAML)")
    return dict(data)


def parse_map_options(options: Iterable[str]) -> dict[str, str]:
    """``["顧客ID=external_id", ...]`` → ``{"顧客ID": "external_id"}``."""
    mapping: dict[str, str] = {}
    for option in options:
        source, sep, target = option.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ConfigError(
                f"--map {option!r}: write it as SOURCE_COLUMN=FIELD, e.g. --map 顧客ID=external_id"
            )
        mapping[source.strip()] = target.strip()
    return mapping


@dataclass(frozen=True)
class Resolved:
    """How a file's columns feed one kind: field name → source column, plus the leftover columns."""

    kind: str
    columns: dict[str, str]
    extra: list[str]

    def field(self, name: str) -> Field:
        """The field spec called ``name``."""
        return next(f for f in FIELDS[self.kind] if f.name == name)


def resolve_columns(kind: str, header: list[str], mapping: Mapping[str, str], path: Path) -> Resolved:
    """Match a header to the fields of ``kind``; raises for unknown targets and missing required fields."""
    from kizuna.errors import ImportDataError

    if kind not in FIELDS:
        raise ConfigError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    fields = {f.name: f for f in FIELDS[kind]}
    chosen: dict[str, str] = {}
    for source, target in mapping.items():
        if target not in fields:
            raise ConfigError(
                f"--map {source}={target}: {kind} have no field {target!r}; fields are {', '.join(fields)}"
            )
        if source not in header:
            raise ImportDataError(
                path,
                f"mapped column {source!r} is not in the header",
                line=1,
                column=source,
                expected=f"one of {', '.join(header)}",
            )
        chosen[target] = source
    taken = set(chosen.values())
    for spec in FIELDS[kind]:
        if spec.name in chosen:
            continue
        for candidate in (spec.name, *spec.aliases):
            if candidate in header and candidate not in taken:
                chosen[spec.name] = candidate
                taken.add(candidate)
                break
    for spec in FIELDS[kind]:
        if spec.required and spec.name not in chosen:
            names = " or ".join(repr(n) for n in (spec.name, *spec.aliases))
            raise ImportDataError(
                path,
                f"missing column for {spec.name!r}",
                line=1,
                column=spec.name,
                expected=f"a column named {names}, or --map YOUR_COLUMN={spec.name}",
            )
    extra = [c for c in header if c not in taken]
    return Resolved(kind, chosen, extra)
