"""Export an audience for an ad platform: the full file, and what changed since the last export.

:func:`export_audience` writes, in ``out_dir``, for audience ``NAME`` and platform ``P``:

- ``NAME.P.full.EXT``: every member who allows ``ads`` now and has an identifier the platform matches on;
- after an earlier export, ``NAME.P.adds.EXT`` (rows not in the last export: customers who entered, gained
  consent or changed their email or phone) and ``NAME.P.removals.EXT`` (identifiers of the last export no
  longer in this one: customers who left, lost consent, were erased or changed their details);
- ``NAME.P.state.json``: the identifiers just exported (SHA-256 hashes; LINE user ids as LINE issued them),
  which the next export compares against. It is written last, so an export that fails leaves the previous
  state in place and the next one computes its changes against what was really uploaded.

Every file is written to a temporary name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from kizuna.channels.audiences import google, line, meta
from kizuna.channels.audiences.members import AudienceCustomer, load_audience
from kizuna.errors import ConfigError
from kizuna.store.engine import Store

Platform = Literal["google", "meta", "line"]
PLATFORMS: tuple[Platform, ...] = ("google", "meta", "line")
STATE_VERSION = 1

Entry = tuple[tuple[str, ...], list[str]]
Writer = Callable[[Iterable[Sequence[str]], Path], int]


@dataclass(frozen=True)
class _Format:
    """How one platform turns customers into rows, and writes full rows and identifier-only rows."""

    label: str
    extension: str
    entry: Callable[[AudienceCustomer], Entry | None]
    write: Writer
    write_ids: Writer


@dataclass(frozen=True)
class ExportResult:
    """What an export did: counts for the summary, and the files it wrote."""

    audience: str
    platform: str
    source: str
    members: int
    exported: int
    no_consent: int
    no_identifier: int
    adds: int | None
    removals: int | None
    files: dict[str, Path] = field(default_factory=dict)


def _format(platform: str, default_country: str | None, line_id: line.LineId, meta_format: str) -> _Format:
    if platform == "google":
        return _Format(
            "google",
            "csv",
            lambda c: google.entry(c, default_country),
            google.write_rows,
            google.write_google_ids,
        )
    if platform == "meta":
        if meta_format not in ("json", "csv"):
            raise ConfigError(f"--meta-format {meta_format!r}: use json or csv")
        return _Format(
            "meta",
            meta_format,
            lambda c: meta.entry(c, default_country),
            meta.write_payload,
            meta.write_meta_ids,
        )
    if platform == "line":
        if line_id not in ("email", "user_id"):
            raise ConfigError(f"--line-id {line_id!r}: use email or user_id")
        label = "line" if line_id == "email" else "line-user-ids"
        return _Format(label, "txt", lambda c: line.entry(c, line_id), line.write_lines, line.write_lines)
    raise ConfigError(f"unknown platform {platform!r}: use one of {', '.join(PLATFORMS)}")


def file_stem(name: str) -> str:
    """``name`` made safe as the start of a file name (anything but letters, digits, ``.``, ``_`` and
    ``-`` becomes ``_``)."""
    return re.sub(r"[^\w.-]", "_", name, flags=re.ASCII).lstrip(".") or "_"


def _replace(path: Path, write: Callable[[Path], int]) -> int:
    partial = path.with_name(f".{path.name}.partial")
    try:
        count = write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def read_state(path: Path) -> list[tuple[str, ...]] | None:
    """The identifiers of the last export from its state file; None when there is none.

    Raises:
        ConfigError: the file is not a state file kizuna wrote.
    """
    if not path.exists():
        return None
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"version {data.get('version')!r}")
        return [tuple(str(v) for v in ids) for ids in data["identifiers"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{path}: not an audience state file kizuna can read ({exc}); move it away to start afresh "
            "(the next export then writes no adds or removals)"
        ) from exc


def _write_state(path: Path, audience: str, label: str, now: datetime, ids: Iterable[tuple[str, ...]]) -> int:
    def write(target: Path) -> int:
        rows = [list(i) for i in ids]
        state = {
            "version": STATE_VERSION,
            "audience": audience,
            "platform": label,
            "exported_at": now.isoformat(),
            "identifiers": rows,
        }
        target.write_text(json.dumps(state, separators=(",", ":")), encoding="utf-8")
        return len(rows)

    return _replace(path, write)


def export_audience(
    store: Store,
    name: str,
    *,
    platform: str,
    out_dir: Path,
    now: datetime,
    default_country: str | None = "JP",
    line_id: line.LineId = "email",
    meta_format: str = "json",
) -> ExportResult:
    """Write audience ``name`` for ``platform`` (``google``, ``meta`` or ``line``) into ``out_dir``, with
    adds and removals against the previous export there (see the module docstring).

    Only members who allow ``ads`` at ``now`` are exported. ``default_country`` is assumed for customers
    whose country is unknown; ``line_id`` picks LINE's identifier (``email``: hashed emails for LINE Ads;
    ``user_id``: LINE user ids for the Messaging API); ``meta_format`` is ``json`` (the API payload) or
    ``csv``.

    Raises:
        NotFoundError: no audience has that name.
        ConfigError: an unknown platform or option, or an unreadable state file.
    """
    fmt = _format(platform, default_country, line_id, meta_format)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = f"{file_stem(name)}.{fmt.label}"
    paths = {part: out_dir / f"{base}.{part}.{fmt.extension}" for part in ("full", "adds", "removals")}
    state_path = out_dir / f"{base}.state.json"
    previous = read_state(state_path)

    audience = load_audience(store, name, now=now, line_ids=fmt.label == "line-user-ids")
    entries: dict[tuple[str, ...], list[str]] = {}
    no_identifier = 0
    for customer in audience.consented:
        made = fmt.entry(customer)
        if made is None:
            no_identifier += 1
        else:
            entries.setdefault(made[0], made[1])

    exported = _replace(paths["full"], lambda p: fmt.write(entries.values(), p))
    adds = removals = None
    files = {"full": paths["full"]}
    if previous is None:
        for part in ("adds", "removals"):
            paths[part].unlink(missing_ok=True)
    else:
        before = set(previous)
        added = [row for ids, row in entries.items() if ids not in before]
        gone = [ids for ids in dict.fromkeys(previous) if ids not in entries]
        adds = _replace(paths["adds"], lambda p: fmt.write(added, p))
        removals = _replace(paths["removals"], lambda p: fmt.write_ids(gone, p))
        files |= {"adds": paths["adds"], "removals": paths["removals"]}
    _write_state(state_path, name, fmt.label, now, entries.keys())
    files["state"] = state_path
    return ExportResult(
        audience=name,
        platform=fmt.label,
        source=audience.source,
        members=audience.members,
        exported=exported,
        no_consent=audience.no_consent,
        no_identifier=no_identifier,
        adds=adds,
        removals=removals,
        files=files,
    )
