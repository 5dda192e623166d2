"""Fixtures: the app on the test store, seeded (dashboard_seed.py) or with users only, and clients signed in
as each role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dashboard_dm_batch import link_settings, render_batch
from dashboard_seed import PASSWORD, USERS, Seeded, seed, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kizuna.api import create_app
from kizuna.channels.dm.render import BatchReport
from kizuna.config import Settings
from kizuna.dashboard.users import create_user
from kizuna.store import Store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with their own data directory, no figures cache (each request counts afresh)."""
    return Settings(data_dir=tmp_path / "data", dashboard_cache_seconds=0)  # type: ignore[call-arg]


@pytest.fixture
def seeded(store: Store) -> Seeded:
    """The test store filled by :func:`dashboard_seed.seed`."""
    return seed(store)


@pytest.fixture
def with_users(store: Store) -> Store:
    """The test store with only the three users."""
    with store.session() as session, session.begin():
        for role, email in USERS.items():
            create_user(session, email, PASSWORD, role=role)
    return store


@pytest.fixture
def app_for(settings: Settings) -> Callable[[Store], FastAPI]:
    """An app serving a store with the test settings."""
    return lambda store: create_app(store, settings=settings)


@pytest.fixture
def client_as(seeded: Seeded, app_for: Callable[[Store], FastAPI]) -> Iterator[Callable[[str], TestClient]]:
    """Clients of the seeded store signed in as a role (``admin``, ``marketer``, ``viewer``)."""
    app = app_for(seeded.store)
    clients: list[TestClient] = []

    def make(role: str) -> TestClient:
        clients.append(TestClient(app, base_url="http://127.0.0.1"))
        return sign_in(clients[-1], USERS[role])

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def dm_batch(seeded: Seeded, tmp_path: Path) -> BatchReport:
    """A rendered print batch (:data:`dashboard_dm_batch.BATCH`) in the seeded store's DM scenario."""
    settings = link_settings(tmp_path / "dm-data")
    return render_batch(seeded.store, "lapsed-sale-dm", tmp_path / "prints", settings)
