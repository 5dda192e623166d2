"""``kizuna segments``: define segments, rebuild their membership and look at their members."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import yaml
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.errors import ConfigError
from kizuna.moments import default_zone, parse_moment
from kizuna.progress import RichProgress
from kizuna.segments.builtin import BUILTINS, builtin
from kizuna.segments.conditions import condition_to_data
from kizuna.segments.membership import live_count, members, rebuild
from kizuna.segments.registry import (
    SegmentDefinition,
    check_name,
    condition_from_text,
    get_segment,
    list_segments,
    load_definitions,
    readable,
    remove_segment,
    save_segments,
)
from kizuna.store.types import utcnow


def _moment(value: str | None) -> datetime:
    """``--at``: an ISO day or time (in the default time zone when it names none); now when not given."""
    if value is None:
        return utcnow()
    try:
        return parse_moment(value)
    except ValueError:
        raise ConfigError(f"--at {value!r}: expected YYYY-MM-DD or an ISO time") from None


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(default_zone()).strftime("%Y-%m-%d %H:%M")


_at_option = click.option(
    "--at", "at", metavar="TIME", help="Count windows and ages to this day or ISO time instead of now."
)


@click.group()
def segments() -> None:
    """Define segments, rebuild their membership and list their members."""


@segments.command("add")
@click.argument("name", required=False)
@click.option(
    "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="YAML/JSON file."
)
@click.option("--condition", metavar="YAML_OR_JSON", help="The condition inline: '{consent: email}'.")
@click.option("--builtin", "builtin_name", metavar="B", help="A built-in segment (see `segments builtins`).")
@click.option("--description", help="What the segment is for.")
@db_option
def add(
    name: str | None,
    path: Path | None,
    condition: str | None,
    builtin_name: str | None,
    description: str | None,
    db: str | None,
) -> None:
    """Add (or replace) segments: NAME with --condition or --builtin, or the segments of --file (NAME
    picks one of them)."""
    if sum(x is not None for x in (path, condition, builtin_name)) != 1:
        raise ConfigError("give exactly one of --file, --condition or --builtin")
    found: list[SegmentDefinition]
    if path is not None:
        found = load_definitions(path)
        if name is not None:
            found = [d for d in found if d.name == name]
            if not found:
                raise ConfigError(f"{path}: no segment named {name!r} in the file")
    elif builtin_name is not None:
        chosen = builtin(builtin_name)
        found = [chosen.definition(check_name(name, "NAME") if name else None, description)]
    else:
        assert condition is not None
        if name is None:
            raise ConfigError("--condition needs the segment's NAME")
        found = [SegmentDefinition(check_name(name, "NAME"), condition_from_text(condition), description)]
    if description is not None:
        found = [SegmentDefinition(d.name, d.condition, description) for d in found]
    save_segments(store_for(db), found)
    for d in found:
        console.print(f"segment [bold]{d.name}[/] saved; fill it with `kizuna segments rebuild {d.name}`")


@segments.command("list")
@db_option
def list_command(db: str | None) -> None:
    """Show every segment with its member count and when it was last rebuilt."""
    found = list_segments(store_for(db))
    if not found:
        console.print("no segments yet; add one with `kizuna segments add` (see `kizuna segments builtins`)")
        return
    table = Table("name", "members", "rebuilt at", "description")
    for s in found:
        text = s.description or ""
        short = text if len(text) <= 48 else text[:47] + "…"  # one line each; `show` has it all
        table.add_row(s.name, f"{s.member_count:,}", _local(s.rebuilt_at), short)
    console.print(table)


@segments.command("count")
@click.argument("name")
@_at_option
@db_option
def count(name: str, at: str | None, db: str | None) -> None:
    """Count who matches NAME now (live), next to the stored member count."""
    store = store_for(db)
    stored = get_segment(store, name)
    live = live_count(store, name, now=_moment(at))
    console.print(f"{name}: {live:,} match now; {stored.member_count:,} stored members "
                  f"(rebuilt {_local(stored.rebuilt_at)})")  # fmt: skip


@segments.command("show")
@click.argument("name")
@db_option
def show(name: str, db: str | None) -> None:
    """Print segment NAME: its definition as YAML, member count and last rebuild."""
    s = get_segment(store_for(db), name)
    definition = SegmentDefinition(s.name, s.condition, s.description).to_data()
    click.echo(yaml.safe_dump(definition, allow_unicode=True, sort_keys=False), nl=False)
    click.echo(f"# members: {s.member_count:,}; rebuilt: {_local(s.rebuilt_at)}")


@segments.command("members")
@click.argument("name")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0))
@db_option
def members_command(name: str, limit: int, offset: int, db: str | None) -> None:
    """List current members of NAME: external id, name and when they entered."""
    found = members(store_for(db), name, limit=limit, offset=offset)
    if not found:
        console.print(f"no members in {name} (at offset {offset}); rebuild it with `kizuna segments rebuild`")
        return
    table = Table("external id", "name", "entered at")
    for m in found:
        table.add_row(m.external_id, m.name or "", _local(m.entered_at))
    console.print(table)


@segments.command("rebuild")
@click.argument("name", required=False)
@_at_option
@db_option
def rebuild_command(name: str | None, at: str | None, db: str | None) -> None:
    """Re-evaluate NAME (default: every segment) and record who entered and who left."""
    store = store_for(db)
    now = _moment(at)
    if name is None:
        with RichProgress(transient=True) as progress:
            done = rebuild(store, now=now, progress=progress)
    else:
        done = rebuild(store, name, now=now)
    if not done:
        console.print("no segments to rebuild; add one with `kizuna segments add`")
        return
    table = Table("segment", "members", "entered", "left", "seconds")
    for r in done:
        table.add_row(r.segment, f"{r.members:,}", f"{r.entered:,}", f"{r.left:,}", f"{r.seconds:.2f}")
    console.print(table)


@segments.command("remove")
@click.argument("name")
@db_option
def remove(name: str, db: str | None) -> None:
    """Delete segment NAME and its membership history."""
    remove_segment(store_for(db), name)
    console.print(f"segment [bold]{name}[/] removed")


@segments.command("builtins")
def builtins() -> None:
    """List the built-in segments (add one with `kizuna segments add --builtin NAME`)."""
    for b in BUILTINS.values():
        data = readable(condition_to_data(b.definition().condition))
        flow = yaml.safe_dump(
            data, allow_unicode=True, default_flow_style=True, sort_keys=False, width=10_000
        )
        flow = flow.strip()
        click.echo(f"{b.name}\n  {b.en}\n  {b.ja}\n  {flow}\n")
