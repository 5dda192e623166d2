"""The dashboard's main journeys in headless Chromium: sign in, open a customer, build a segment and see its
live count, pause a scenario, preview a direct mail batch and approve it. Each journey saves screenshots (PNG)
into ``KIZUNA_ARTEFACTS_DIR`` (default: the test's temporary folder).

Debian's ``chromium`` is driven by Playwright's Python package (``executable_path=/usr/bin/chromium``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_dm_batch import BATCH
from dashboard_seed import PASSWORD, USERS, Seeded
from dashboard_server import DashboardServer
from fastapi import FastAPI
from sqlalchemy import func, select

from kizuna.channels.dm.render import BatchReport
from kizuna.scenarios.registry import get_scenario
from kizuna.segments.compiler import customer_ids_query
from kizuna.segments.conditions import parse_condition
from kizuna.segments.registry import stored_conditions
from kizuna.store import Store
from kizuna.store.direct_mail import DmBatch
from kizuna.store.types import utcnow

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Chromium is not installed: `apt-get install -y chromium` (.ci/run installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")
# Read before the autouse fixture clears KIZUNA_* variables.
ARTEFACTS = os.environ.get("KIZUNA_ARTEFACTS_DIR")


@pytest.fixture
def artefacts(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    folder = Path(ARTEFACTS) if ARTEFACTS else tmp_path / "artefacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def site(seeded: Seeded, app_for: Callable[[Store], FastAPI]) -> Iterator[str]:
    server = DashboardServer(app_for(seeded.store)).start()
    yield server.url
    server.stop()


@pytest.fixture
def page(site: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        context = browser.new_context(base_url=site, viewport={"width": 1280, "height": 900}, locale="en-GB")
        opened = context.new_page()
        opened.set_default_timeout(15_000)
        yield opened
        browser.close()


def _shot(page: Any, folder: Path, name: str, backend: str) -> Path:
    path = folder / f"dashboard-{name}-{backend}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1_000
    return path


def _sign_in(page: Any, role: str) -> None:
    page.goto("/")
    assert "/login" in page.url
    page.fill("#email", USERS[role])
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url("**/")


def test_sign_in_and_open_a_customer(seeded: Seeded, page: Any, artefacts: Path) -> None:
    backend = seeded.store.dialect
    _sign_in(page, "viewer")
    assert page.locator("#fig-customers").inner_text() != ""
    shots = [_shot(page, artefacts, "overview", backend)]
    page.click("nav a[href='/customers']")
    page.fill("#q", seeded.external_id)
    page.click("#search")
    page.click(f"a[href='/customers/{seeded.customer_id}']")
    page.wait_for_url(f"**/customers/{seeded.customer_id}")
    assert seeded.external_id in page.locator("#customer-title").inner_text()
    assert page.locator("#deliveries tbody tr").count() >= 1
    shots.append(_shot(page, artefacts, "customer", backend))
    assert all(p.exists() and p.stat().st_size > 0 for p in shots)


def test_build_a_segment_and_see_its_live_count(seeded: Seeded, page: Any, artefacts: Path) -> None:
    _sign_in(page, "marketer")
    page.goto("/segments/new")
    page.select_option("select[name='c0_kind']", "measure")
    page.fill("input[name='c0_field']", "orders")
    page.select_option("select[name='c0_op']", "gte")
    page.fill("input[name='c0_value']", "3")
    condition = parse_condition({"measure": "orders", "gte": 3})
    with seeded.store.engine.connect() as conn:
        query = customer_ids_query(condition, now=utcnow(), resolve=stored_conditions(conn).__getitem__)
        expected = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    shown = "document.getElementById('live-count').textContent.replace(/,/g, '')"
    page.wait_for_function(f"expected => {shown} === String(expected)", arg=expected)
    assert "gte: 3" in page.locator("#condition-yaml").inner_text()
    shot = _shot(page, artefacts, "segment-builder", seeded.store.dialect)
    assert shot.stat().st_size > 0


def test_pause_a_scenario(seeded: Seeded, page: Any, artefacts: Path) -> None:
    _sign_in(page, "marketer")
    page.goto(f"/scenarios/{seeded.scenario}")
    assert page.locator("svg.flow").count() == 1
    page.click("#pause")
    page.wait_for_selector("#resume")
    assert get_scenario(seeded.store, seeded.scenario).status == "paused"
    shot = _shot(page, artefacts, "scenario-paused", seeded.store.dialect)
    assert shot.stat().st_size > 0


def test_switch_to_japanese(seeded: Seeded, page: Any, artefacts: Path) -> None:
    _sign_in(page, "viewer")
    page.select_option("#lang-switch", "ja")
    page.wait_for_function("document.documentElement.lang === 'ja'")
    assert "顧客" in page.locator("nav.menu").inner_text()
    shot = _shot(page, artefacts, "overview-ja", seeded.store.dialect)
    assert shot.stat().st_size > 0


def test_preview_a_direct_mail_batch_and_approve_it(
    seeded: Seeded, dm_batch: BatchReport, page: Any, artefacts: Path
) -> None:
    _sign_in(page, "marketer")
    page.click("nav a[href='/direct-mail']")
    page.click(f"a[href='/direct-mail/{BATCH}']")
    page.wait_for_url(f"**/direct-mail/{BATCH}")
    piece = page.locator("img.piece").first
    piece.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('img.piece');"
        " return i && i.complete && i.naturalWidth > 100; }"
    )
    assert page.locator("#pdf-after-approval").count() == 1
    shots = [_shot(page, artefacts, "direct-mail-preview", seeded.store.dialect)]
    page.click("#approve")
    page.wait_for_selector("#mark-printed")
    assert "approved" in page.locator("#batch-status").inner_text()
    with seeded.store.session() as session:
        batch = session.scalars(select(DmBatch).where(DmBatch.name == BATCH)).one()
        assert (batch.status, batch.approved_by) == ("approved", "marketer user")
    assert page.locator(f"a[href='/direct-mail/{BATCH}/files/pieces-001.pdf']").count() == 1
    shots.append(_shot(page, artefacts, "direct-mail-approved", seeded.store.dialect))
    assert all(p.stat().st_size > 0 for p in shots)
