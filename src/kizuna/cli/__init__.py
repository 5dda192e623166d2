"""The ``kizuna`` command: a thin layer over the library."""

from __future__ import annotations

import sys
from typing import Any

import click

from kizuna import __version__
from kizuna.cli.common import err_console
from kizuna.errors import KizunaError


class _Group(click.Group):
    """Turns kizuna's typed errors into a clear message and their exit code instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KizunaError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kizuna")
def main() -> None:
    """kizuna (絆): one-to-one marketing from each customer's data."""


def _register() -> None:
    from kizuna.cli.audiences import audiences
    from kizuna.cli.customers import customer
    from kizuna.cli.datasets import register_datasets
    from kizuna.cli.db import db
    from kizuna.cli.deliver import deliver_command
    from kizuna.cli.demo import demo_data
    from kizuna.cli.dm import dm
    from kizuna.cli.imports import import_group
    from kizuna.cli.keys import keys
    from kizuna.cli.privacy import privacy
    from kizuna.cli.recommend import evaluate_command, recommend_command, train_command
    from kizuna.cli.responses import responses
    from kizuna.cli.rules import rules
    from kizuna.cli.run import run_command
    from kizuna.cli.scenarios import scenarios
    from kizuna.cli.segments import segments
    from kizuna.cli.serve import serve
    from kizuna.cli.users import users

    main.add_command(db)
    main.add_command(import_group)
    main.add_command(demo_data)
    main.add_command(customer)
    main.add_command(train_command)
    main.add_command(recommend_command)
    main.add_command(evaluate_command)
    main.add_command(rules)
    main.add_command(segments)
    main.add_command(run_command)
    main.add_command(deliver_command)
    main.add_command(keys)
    main.add_command(serve)
    main.add_command(privacy)
    main.add_command(scenarios)
    main.add_command(audiences)
    main.add_command(dm)
    main.add_command(responses)
    main.add_command(users)
    register_datasets(import_group)

    from kizuna.cli.report import report
    from kizuna.cli.value import value

    main.add_command(report)
    main.add_command(value)


_register()
