"""The dashboard's pages, one module per area. Each has a ``router`` and a ``NAV`` entry (a catalogue key
and a path, or None for no menu item); adding a page is adding a module and naming it in :data:`PAGES`."""

from __future__ import annotations

from types import ModuleType

from kizuna.dashboard.pages import (
    audiences,
    consents,
    customers,
    direct_mail,
    login,
    overview,
    privacy,
    recommendations,
    scenarios,
    segments,
)

#: In menu order.
PAGES: list[ModuleType] = [
    login,
    overview,
    customers,
    segments,
    scenarios,
    direct_mail,
    recommendations,
    audiences,
    consents,
    privacy,
]
