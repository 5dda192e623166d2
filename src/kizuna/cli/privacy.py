"""``kizuna privacy``: a data subject's export and deletion requests."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kizuna.cli.common import console, db_option, err_console, store_for
from kizuna.errors import ConfigError
from kizuna.privacy.erase import delete_customer
from kizuna.privacy.export import export_customer
from kizuna.profiles import find_customer

_BY = "cli"


@click.group()
def privacy() -> None:
    """Export or delete everything held about one customer."""


@privacy.command("export")
@click.argument("customer")
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout."
)
@db_option
def export_command(customer: str, out: Path | None, db: str | None) -> None:
    """Everything held about CUSTOMER (external id, email or #id) as JSON; the export is recorded."""
    store = store_for(db)
    with store.session() as session:
        data = export_customer(session, find_customer(session, customer).id, requested_by=_BY)
        session.commit()
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out is None:
        click.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    err_console.print(f"wrote {out} ({sum(len(x) for x in data.values() if isinstance(x, list)):,} records)")


@privacy.command("delete")
@click.argument("customer")
@click.option(
    "--anonymise",
    is_flag=True,
    help="Keep orders for revenue figures, detached from the person, instead of deleting them.",
)
@click.option("--yes", is_flag=True, help="Confirm: this cannot be undone.")
@db_option
def delete_command(customer: str, anonymise: bool, yes: bool, db: str | None) -> None:
    """Delete CUSTOMER (external id, email or #id) and every row about them, or anonymise them."""
    if not yes:
        raise ConfigError("deleting a customer cannot be undone: add --yes to confirm")
    store = store_for(db)
    with store.session() as session:
        customer_id = find_customer(session, customer).id
        record = delete_customer(
            session, customer_id, mode="anonymise" if anonymise else "delete", requested_by=_BY
        )
        session.commit()
    verb = "anonymised" if anonymise else "deleted"
    console.print(f"customer #{customer_id} {verb} (privacy request #{record.id})", highlight=False)
    for what in ("deleted", "anonymised"):
        done = record.details.get(what) or {}
        if done:
            rows = ", ".join(f"{table} {n:,}" for table, n in sorted(done.items()))
            console.print(f"  {what}: {rows}", highlight=False)
    if record.details.get("withdrawn"):
        console.print(f"  consent withdrawn: {', '.join(record.details['withdrawn'])}", highlight=False)
