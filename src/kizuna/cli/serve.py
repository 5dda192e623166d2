"""``kizuna serve``: the HTTP API on uvicorn."""

from __future__ import annotations

import os

import click

from kizuna.cli.common import db_option, store_for
from kizuna.config import get_settings

#: How long a worker process may take to start and to answer the supervisor's checks.
WORKER_START_SECONDS = 120


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes, about one per core; on SQLite they take turns writing.",
)
@click.option("--log-level", default="warning", show_default=True, help="uvicorn's log level.")
@click.option("--access-log/--no-access-log", default=False, show_default=True, help="Log every request.")
@db_option
def serve(host: str, port: int, workers: int, log_level: str, access_log: bool, db: str | None) -> None:
    """Serve the tracking API, /kizuna.js, the profiles and privacy API, /openapi.json, and the dashboard
    at / (sign in with a user from `kizuna users create`)."""
    import uvicorn

    store = store_for(db)  # creates or upgrades the schema once, before any worker starts
    # Workers are fresh processes that build the app from the environment: hand them the store's URL.
    os.environ["KIZUNA_DATABASE_URL"] = store.url
    get_settings.cache_clear()
    store.dispose()
    click.echo(f"kizuna serving {store.engine.url.render_as_string()} on http://{host}:{port}", err=True)
    uvicorn.run(
        "kizuna.api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=True,
        # A worker loads the recommenders and the dashboard before it answers: several seconds on a busy
        # machine, more than uvicorn's 5 s default, after which it would restart the worker again and again.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )
