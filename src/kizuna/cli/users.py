"""``kizuna users``: the people who sign in to the dashboard."""

from __future__ import annotations

import sys

import click

from kizuna.cli.common import console, db_option, store_for
from kizuna.dashboard.users import create_user, list_users, set_disabled, set_password
from kizuna.errors import ConfigError
from kizuna.store.dashboard import ROLES


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise ConfigError("--password-stdin: no password on standard input")
        return line.rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@click.group()
def users() -> None:
    """Create, list and disable dashboard users, and set their passwords."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="marketer", show_default=True,
              help="admin: everything, including privacy requests; marketer: segments, scenarios; "
              "viewer: looks only.")  # fmt: skip
@click.option("--name", "display_name", metavar="TEXT", help="The name the dashboard greets them by.")
@click.option("--language", type=click.Choice(["ja", "en"]), default=None,
              help="Their dashboard language (default: the browser's).")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@db_option
def create(
    email: str,
    role: str,
    display_name: str | None,
    language: str | None,
    password_stdin: bool,
    db: str | None,
) -> None:
    """Add a dashboard user who signs in as EMAIL; the password is asked twice (or read from stdin)."""
    password = _read_password(password_stdin)
    store = store_for(db)
    with store.session() as session, session.begin():
        user = create_user(session, email, password, role=role, display_name=display_name, language=language)
    console.print(f"dashboard user [bold]{user.email}[/] created ({user.role})", highlight=False)


@users.command("list")
@db_option
def list_command(db: str | None) -> None:
    """Show the dashboard users: login, role, name, language, last sign-in, and whether disabled."""
    store = store_for(db)
    with store.session() as session:
        found = list_users(session)
    if not found:
        console.print("no dashboard users yet; add one with `kizuna users create EMAIL`")
        return
    for u in found:
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        state = "  [red]disabled[/]" if u.disabled else ""
        console.print(
            f"[bold]{u.email}[/]  {u.role:<8}  {u.display_name or '-'}  {u.language or '-'}  "
            f"last sign-in {last}{state}",
            highlight=False,
            soft_wrap=True,
        )


@users.command("disable")
@click.argument("email")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@db_option
def disable(email: str, enable: bool, db: str | None) -> None:
    """Stop EMAIL from signing in; their open sessions end at their next request."""
    store = store_for(db)
    with store.session() as session, session.begin():
        user = set_disabled(session, email, not enable)
    console.print(f"{user.email} {'enabled' if enable else 'disabled'}", highlight=False)


@users.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@db_option
def password(email: str, password_stdin: bool, db: str | None) -> None:
    """Set a new password for EMAIL (asked twice, or read from stdin); their open sessions end."""
    new = _read_password(password_stdin)
    store = store_for(db)
    with store.session() as session, session.begin():
        user = set_password(session, email, new)
    console.print(f"password of {user.email} changed", highlight=False)
