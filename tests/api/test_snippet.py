"""/kizuna.js in headless Chromium: the first-party cookie, consent gating, first and returning visits.

A shop page on its own origin loads the snippet from the kizuna test server, as a real site would.
Debian's ``chromium`` is driven by Playwright's Python package (``executable_path=/usr/bin/chromium``).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from live_server import Api, LiveServer, make_key
from sqlalchemy import select

from kizuna.api import create_app
from kizuna.privacy.consent import consent_state
from kizuna.store import Store
from kizuna.store.tables import Customer, Event, Identity

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Chromium is not installed: `apt-get install -y chromium` (.ci/run installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")


class Shop:
    """A site on another origin whose page loads the snippet from the kizuna server."""

    def __init__(self, api: Api, consent: str, tls: ssl.SSLContext | None = None) -> None:
        page = (
            "<!doctype html><html><head><title>緑茶の店</title>"
            f'<script src="{api.url}/kizuna.js" data-write-key="{api.write_key}"'
            f' data-consent="{consent}"></script>'
            "</head><body><h1>ようこそ</h1></body></html>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://localhost:{self.server.server_address[1]}/shop"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def shop(api: Api) -> Iterator[Callable[[str], Shop]]:
    shops: list[Shop] = []

    def open_shop(consent: str) -> Shop:
        shops.append(Shop(api, consent))
        return shops[-1]

    yield open_shop
    for s in shops:
        s.close()


def _events(api: Api, *, at_least: int = 0, timeout: float = 10.0) -> list[Event]:
    """The stored events, once there are at least ``at_least`` (the snippet sends asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        with api.store.session() as s:
            found = list(s.scalars(select(Event).order_by(Event.id)))
            s.expunge_all()
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _cookies(context: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in context.cookies()}


def test_opt_out_site_sets_the_cookie_and_tells_returning_visits(api: Api, shop: Any, browser: Any) -> None:
    site = shop("opt-out")
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url)
    [first] = _events(api, at_least=1)
    cookies = _cookies(context)
    anonymous_id = cookies["kz_aid"]["value"]
    assert cookies["kz_aid"]["sameSite"] == "Lax" and cookies["kz_aid"]["secure"] is False
    assert cookies["kz_aid"]["expires"] == pytest.approx(time.time() + 395 * 86400, abs=120)
    assert (first.type, first.anonymous_id) == ("page", anonymous_id)
    assert first.context["page"]["title"] == "緑茶の店" and first.context["visit"] == {
        "number": 1,
        "returning": False,
    }
    assert first.context["library"]["name"] == "kizuna.js"
    assert page.evaluate("kizuna.isReturning()") is False

    page.reload()  # the same visit
    assert _events(api, at_least=2)[-1].context["visit"] == {"number": 1, "returning": False}

    context.clear_cookies(name="kz_seen")  # the visit has lapsed (no page view for 30 minutes)
    page.reload()
    latest = _events(api, at_least=3)[-1]
    assert latest.anonymous_id == anonymous_id and latest.context["visit"] == {"number": 2, "returning": True}
    assert page.evaluate("kizuna.isReturning()") is True

    page.evaluate("kizuna.track('Product Viewed', {sku: 'TEA-1', name: '玉露', price: 1800})")
    page.evaluate("kizuna.identify('u-100', {email: 'kaori@example.jp'})")
    _events(api, at_least=5)
    with api.store.session() as s:
        customer = s.scalars(select(Customer).where(Customer.external_id == "u-100")).one()
        assert customer.email == "kaori@example.jp"
        device = s.scalars(select(Identity).where(Identity.value == anonymous_id)).one()
        assert device.customer_id == customer.id
        assert set(s.scalars(select(Event.customer_id))) == {customer.id}  # earlier visits stitched too
    context.close()


def test_opt_in_site_waits_for_consent(api: Api, shop: Any, browser: Any) -> None:
    site = shop("opt-in")
    context = browser.new_context()
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.startswith(api.url + "/v1/") else None)
    page.goto(site.url)
    page.evaluate("kizuna.track('Clicked'); kizuna.page(); kizuna.identify('u-1')")
    page.wait_for_timeout(300)
    assert context.cookies() == [] and sent == [] and _events(api) == []
    assert page.evaluate("kizuna.isReturning()") is False and page.evaluate("kizuna.anonymousId()") is None

    page.evaluate("kizuna.consent({tracking: true, email: false})")
    [viewed] = _events(api, at_least=1)
    anonymous_id = _cookies(context)["kz_aid"]["value"]
    assert viewed.type == "page" and viewed.anonymous_id == anonymous_id
    assert viewed.context["visit"] == {"number": 1, "returning": False}

    page.evaluate("kizuna.identify('u-1', {name: '木村 香織'})")
    deadline = time.monotonic() + 10
    while True:  # the choices are sent again once the visitor is known, and recorded then
        with api.store.session() as s:
            customer_id = s.scalar(select(Customer.id).where(Customer.external_id == "u-1"))
            state = consent_state(s, customer_id) if customer_id else {}
        if state or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert state["tracking"].status == "granted" and state["email"].status == "denied"
    assert state["tracking"].source == "snippet"

    page.evaluate("kizuna.consent({tracking: false})")
    page.wait_for_timeout(300)
    assert "kz_aid" not in _cookies(context)
    with api.store.session() as s:
        assert consent_state(s, customer_id)["tracking"].status == "withdrawn"
    before = len(_events(api))
    page.evaluate("kizuna.track('After withdrawal')")
    page.reload()
    page.wait_for_timeout(300)
    assert len(_events(api)) == before and "kz_aid" not in _cookies(context)
    context.close()


def test_cookie_lifetime_and_consent_mode_come_from_settings(serve: Callable[..., Api], browser: Any) -> None:
    api = serve(snippet_consent="opt-out", snippet_cookie_days=30)
    site = Shop(api, consent="")  # the page does not choose: the server's setting holds
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(site.url)
        assert len(_events(api, at_least=1)) == 1
        expires = _cookies(context)["kz_aid"]["expires"]
        assert expires == pytest.approx(time.time() + 30 * 86400, abs=120)
        context.close()
    finally:
        site.close()


def test_on_https_the_cookie_is_secure(store: Store, browser: Any, tmp_path: Path) -> None:
    # A shop on https loading the snippet from kizuna on https, both with a certificate from a test CA.
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(certfile))
    leaf.private_key_pem.write_to_path(str(keyfile))
    server = LiveServer(create_app(store), tls=(certfile, keyfile)).start()
    api = Api(server.url, store, make_key(store, "write"), make_key(store, "secret", "admin"))
    shop_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(shop_tls)
    site = Shop(api, consent="opt-out", tls=shop_tls)
    try:
        assert site.url.startswith("https://") and api.url.startswith("https://")
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        page.goto(site.url)
        [first] = _events(api, at_least=1)
        cookie = _cookies(context)["kz_aid"]
        assert cookie["secure"] is True and cookie["sameSite"] == "Lax"
        assert first.anonymous_id == cookie["value"]
        context.close()
    finally:
        site.close()
        server.stop()
