"""``kizuna keys``: API keys for the HTTP API (write keys for sending events, secret keys for reading)."""

from __future__ import annotations

from datetime import datetime

import click

from kizuna.cli.common import console, db_option, store_for
from kizuna.security.keys import SCOPES, create_key, list_keys, revoke_key


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(["write", "secret"]),
    default="write",
    show_default=True,
    help="write: public, only sends events (put it in pages and apps); secret: server side, with scopes.",
)
@click.option("--source", metavar="NAME", help="What sends with this write key (a site, an app).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(list(SCOPES)),
    help="A secret key's permission (repeatable): " + "; ".join(f"{k}: {v}" for k, v in SCOPES.items()) + ".",
)
@db_option
def create(name: str, kind: str, source: str | None, scopes: tuple[str, ...], db: str | None) -> None:
    """Create key NAME and print its token, which is shown only this once."""
    store = store_for(db)
    with store.session() as session, session.begin():
        key, token = create_key(session, kind=kind, name=name, source=source, scopes=scopes)
        prefix = key.prefix
    console.print(f"{kind} key [bold]{name}[/] created ({prefix}); keep the token, it is not shown again:")
    click.echo(token)


@keys.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@db_option
def list_command(include_revoked: bool, db: str | None) -> None:
    """Show the keys, one a line: prefix, kind, name, source or scopes, when created and last used."""
    store = store_for(db)
    with store.session() as session:
        found = list_keys(session, include_revoked=include_revoked)
    if not found:
        console.print("no API keys yet; create one with `kizuna keys create NAME`")
        return

    def day(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d") if value is not None else "never"

    for k in found:
        what = f"scopes {', '.join(k.scopes)}" if k.kind == "secret" else f"source {k.source or '-'}"
        state = f"  [red]revoked {day(k.revoked_at)}[/]" if k.revoked_at else ""
        console.print(
            f"[bold]{k.prefix}[/]  {k.kind:<6}  {k.name}  ({what})  "
            f"created {day(k.created_at)}, last used {day(k.last_used_at)}{state}",
            highlight=False,
            soft_wrap=True,
        )


@keys.command("revoke")
@click.argument("prefix")
@db_option
def revoke(prefix: str, db: str | None) -> None:
    """Revoke the key with PREFIX (as `kizuna keys list` shows it); requests with it get 401 from then on."""
    store = store_for(db)
    with store.session() as session, session.begin():
        key = revoke_key(session, prefix)
        name = key.name
    console.print(f"key [bold]{prefix}[/] ({name}) revoked")
