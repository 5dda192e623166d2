"""Mounting the dashboard on kizuna's FastAPI app: its pages at ``/``, its files at ``/dashboard-static``.

The API's routes (``/v1/...``, ``/kizuna.js``, ``/healthz``, ``/privacy/transmission``, ``/docs``) keep their
own authentication; the dashboard's pages need a signed-in user (see :mod:`kizuna.dashboard.web`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from kizuna.config import Settings
from kizuna.dashboard.pages import PAGES
from kizuna.dashboard.web import STATIC_PATH, Dashboard, install_handlers
from kizuna.store.engine import Store

STATIC = Path(__file__).with_name("static")


def mount_dashboard(app: FastAPI, store: Store, settings: Settings) -> Dashboard:
    """Add the dashboard to ``app`` and return its state."""
    dashboard = Dashboard.create(store, settings)
    app.state.dashboard = dashboard
    install_handlers(app)
    for page in PAGES:
        app.include_router(page.router, include_in_schema=False)
        if page.NAV is not None:
            dashboard.nav.append(page.NAV)
        dashboard.figures.update(getattr(page, "FIGURES", {}))
        dashboard.warmers.extend(getattr(page, "WARMERS", []))
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="dashboard-static")
    return dashboard
