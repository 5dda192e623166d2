"""``kizuna deliver``: send the outbox's due deliveries through their channels, once or until stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from kizuna.channels.base import Channel
from kizuna.channels.dispatch import DispatchReport, dispatch, dispatch_forever
from kizuna.channels.registry import CHANNELS, configured_channels, make_channel
from kizuna.cli.common import console, db_option, err_console, store_for


def _summary(report: DispatchReport) -> str:
    text = (
        f"sent {report.sent}, failed {report.failed}, suppressed {report.suppressed}, "
        f"retrying {report.retrying}"
    )
    if report.released or report.lost:
        text += f", handed back {report.released}, taken over {report.lost}"
    return text


def _configured() -> list[Channel]:
    """Every channel whose settings are complete, naming the others on stderr."""
    ready, skipped = configured_channels()
    for reason in skipped:
        err_console.print(f"[yellow]skipped:[/] {reason}", highlight=False, soft_wrap=True)
    return ready


@click.command("deliver")
@click.option(
    "--channel",
    "names",
    type=click.Choice(sorted(CHANNELS)),
    multiple=True,
    help="Channel to send (repeatable). Default: every channel whose settings are complete.",
)
@click.option("--once", is_flag=True, help="Do one pass over each channel and stop.")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=10_000),
    default=None,
    metavar="N",
    help="Deliveries claimed per channel and pass (default: KIZUNA_DELIVERY_BATCH_SIZE, 100).",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.01, max=300),
    default=None,
    metavar="SECONDS",
    help="Seconds between passes when nothing is due (default: KIZUNA_DELIVERY_POLL_INTERVAL, 1).",
)
@db_option
def deliver_command(
    names: tuple[str, ...], once: bool, limit: int | None, poll: float | None, db: str | None
) -> None:
    """Send due deliveries from the outbox, checking consent at the point of sending."""
    channels = [make_channel(name) for name in names] if names else _configured()
    store = store_for(db)
    if once:
        total = DispatchReport()
        for channel in channels:
            total.add(dispatch(store, channel, limit=limit))
        console.print(_summary(total))
        return
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    console.print(f"delivering through {', '.join(c.name for c in channels)}; Ctrl-C stops it")
    console.print(_summary(dispatch_forever(store, channels, poll_interval=poll, limit=limit, stop=stop)))
