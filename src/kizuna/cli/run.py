"""``kizuna run``: the scenario engine's worker — one pass, a dry run, or until stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from kizuna.cli.common import console, db_option, store_for
from kizuna.scenarios.engine import RunReport, run_forever, run_once


def _summary(report: RunReport) -> str:
    prefix = "would have: " if report.dry_run else ""
    return (
        f"{prefix}entered {report.entered} (control {report.control}, holdout {report.holdout}), "
        f"advanced {report.advanced}, deliveries written {report.deliveries}, "
        f"suppressed {report.suppressed}, deferred {report.deferred}, exited {report.exited}, "
        f"done {report.done}; orders attributed {report.attributed}, coupons redeemed {report.redeemed}"
    )


@click.command("run")
@click.option("--once", is_flag=True, help="Do one pass (intake, timers, due runs) and stop.")
@click.option(
    "--dry-run", is_flag=True, help="One pass in a transaction that is rolled back: what would happen."
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.01, max=60),
    default=None,
    metavar="SECONDS",
    help="Seconds between passes when idle (default: KIZUNA_ENGINE_POLL_INTERVAL, 0.2).",
)
@db_option
def run_command(once: bool, dry_run: bool, poll: float | None, db: str | None) -> None:
    """Run the scenario engine: enter customers, move their runs, write deliveries to the outbox."""
    store = store_for(db)
    if once or dry_run:
        console.print(_summary(run_once(store, dry_run=dry_run)))
        return
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    console.print("scenario engine running; Ctrl-C stops it")
    total = run_forever(store, poll_interval=poll, stop=stop)
    console.print(_summary(total))
