"""The marketer's dashboard: server-rendered pages (FastAPI + Jinja2) behind a sign-in, in Japanese and
English, served by ``kizuna serve`` at ``/``. See ``docs/dashboard.md``."""

from kizuna.dashboard.app import mount_dashboard

__all__ = ["mount_dashboard"]
