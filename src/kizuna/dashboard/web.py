"""What every dashboard page shares: the request's session and user, CSRF checks, rendering with the
security headers, and the errors pages raise (sign-in needed, refused, missing).

Pages take :data:`SignedIn` (a signed-in user, else a redirect to ``/login``) or :data:`Visitor`, render
with :func:`render`, and read forms with :func:`posted`, which refuses (403) a POST without the session's
CSRF token.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kizuna.config import Settings
from kizuna.dashboard.cache import Aggregates
from kizuna.dashboard.i18n import LANGUAGES, from_accept_language, translate
from kizuna.dashboard.security import (
    COOKIE,
    DashboardSession,
    LoginLimiter,
    password_stamp,
    read_session,
    same_token,
    session_secret,
    sign_session,
)
from kizuna.dashboard.users import UserInfo, get_user, password_hash_of
from kizuna.store.engine import Store

TEMPLATES = Path(__file__).with_name("templates")
STATIC_PATH = "/dashboard-static"
_FORM_LIMIT = 64 * 1024
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Dashboard:
    """The dashboard's state in one app: store, settings, signing secret, sign-in limits, figures cache,
    templates, and the navigation (filled as page modules are registered)."""

    store: Store
    settings: Settings
    secret: bytes
    limiter: LoginLimiter
    aggregates: Aggregates
    templates: Environment
    nav: list[tuple[str, str]] = field(default_factory=list)
    figures: dict[str, Callable[[Store], Any]] = field(default_factory=dict)
    warmers: list[Callable[[Dashboard], list[tuple[str, Callable[[], Any]]]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, store: Store, settings: Settings) -> Dashboard:
        """The dashboard state for ``store`` under ``settings``."""
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
        )
        env.filters["mask"] = mask
        return cls(
            store,
            settings,
            session_secret(settings),
            LoginLimiter(settings.dashboard_login_attempts),
            Aggregates(settings.dashboard_cache_seconds),
            env,
        )

    def warm(self) -> None:
        """Count in the background, unless counted already: the store-wide figures (the overview first),
        then what pages register in ``warmers`` (each scenario's counts and results)."""
        wanted: list[tuple[str, Callable[[], Any]]] = [
            (key, partial(compute, self.store)) for key, compute in self.figures.items()
        ]
        self.aggregates.warm(wanted, more=[partial(warmer, self) for warmer in self.warmers])


class LoginRequired(Exception):
    """No valid session: pages redirect to the sign-in form, JSON endpoints answer 401."""


class Refused(Exception):
    """The request may not do this (403): no CSRF token, or a role that may not change things."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Missing(Exception):
    """What the page names does not exist (404)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass
class Ctx:
    """One request to the dashboard: who asks, in which language, and the session to send back."""

    request: Request
    dashboard: Dashboard
    session: DashboardSession
    user: UserInfo | None
    language: str
    renew_cookie: bool = False

    def figure(self, key: str) -> Any:
        """The store-wide figure ``key`` (registered by a page module's ``FIGURES``), cached."""
        compute = self.dashboard.figures[key]
        return self.dashboard.aggregates.get(key, lambda: compute(self.dashboard.store))

    @property
    def store(self) -> Store:
        """The store."""
        return self.dashboard.store

    def t(self, key: str, **values: object) -> str:
        """A UI string in the request's language."""
        return translate(self.language, key, **values)

    def require_change(self) -> UserInfo:
        """The user, when their role may change things; Refused (403) for viewers."""
        if self.user is None or not self.user.can_change:
            raise Refused("viewer")
        return self.user

    def require_admin(self) -> UserInfo:
        """The user, when an admin; Refused (403) otherwise."""
        if self.user is None or not self.user.is_admin:
            raise Refused("admin")
        return self.user


def mask(value: object) -> str:
    """A contact detail shown only in part (``ha…@example.jp``, ``090-…-78``), for viewers."""
    text = str(value or "")
    if not text:
        return ""
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:2]}…@{domain}"
    return f"{text[:3]}…{text[-2:]}" if len(text) > 6 else "…"


def dashboard_of(request: Request) -> Dashboard:
    """The dashboard state of the app serving ``request``."""
    found: Dashboard = request.app.state.dashboard
    return found


def _session_seconds(dashboard: Dashboard) -> float:
    return dashboard.settings.dashboard_session_hours * 3600


def _load(request: Request) -> Ctx:
    dashboard = dashboard_of(request)
    session = read_session(request.cookies.get(COOKIE), dashboard.secret)
    user = None
    if session is not None and session.user_id:
        with dashboard.store.session() as db:
            user = get_user(db, session.user_id)
            stored = password_hash_of(db, session.user_id)
        if user is None or stored is None or password_stamp(dashboard.secret, stored) != session.stamp:
            session, user = None, None
    renew = session is None
    if session is None:
        session = DashboardSession.anonymous(_session_seconds(dashboard))
    language = session.language or (user.language if user else None)
    language = language or from_accept_language(request.headers.get("accept-language"))
    return Ctx(request, dashboard, session, user, language, renew)


async def visitor(request: Request) -> Ctx:
    """The request, signed in or not (the sign-in page)."""
    return await run_in_threadpool(_load, request)


async def signed_in(request: Request) -> Ctx:
    """The request of a signed-in user; LoginRequired otherwise."""
    ctx = await run_in_threadpool(_load, request)
    if ctx.user is None:
        raise LoginRequired()
    return ctx


Visitor = Annotated[Ctx, Depends(visitor)]
SignedIn = Annotated[Ctx, Depends(signed_in)]


def start_session(ctx: Ctx, user: UserInfo, password_hash: str) -> None:
    """Replace the visitor's session by a new one for ``user`` (a new CSRF token: no session fixation)."""
    seconds = _session_seconds(ctx.dashboard)
    fresh = DashboardSession.anonymous(seconds, ctx.session.language or user.language)
    ctx.session = DashboardSession(
        user.id,
        password_stamp(ctx.dashboard.secret, password_hash),
        fresh.csrf,
        fresh.language,
        fresh.expires,
    )
    ctx.user = user
    ctx.language = fresh.language or ctx.language
    ctx.renew_cookie = True


def _finish(ctx: Ctx | None, response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if ctx is not None and ctx.renew_cookie:
        response.set_cookie(
            COOKIE,
            sign_session(ctx.session, ctx.dashboard.secret),
            max_age=int(_session_seconds(ctx.dashboard)),
            path="/",
            httponly=True,
            samesite="lax",
            secure=ctx.request.url.scheme == "https",
        )
    return response


def render(ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The page ``template`` for ``ctx``, with the security headers (and the session cookie when new)."""
    page = ctx.dashboard.templates.get_template(template).render(
        t=ctx.t,
        lang=ctx.language,
        languages=LANGUAGES,
        user=ctx.user,
        csrf=ctx.session.csrf,
        nav=ctx.dashboard.nav,
        path=ctx.request.url.path,
        static=STATIC_PATH,
        **values,
    )
    return _finish(ctx, HTMLResponse(page, status_code=status))  # type: ignore[return-value]


def redirect(ctx: Ctx | None, to: str) -> Response:
    """See-other to ``to`` (after a POST), with the security headers and cookie."""
    return _finish(ctx, RedirectResponse(to, status_code=303))


def json_response(ctx: Ctx | None, data: Any, status: int = 200) -> Response:
    """A JSON answer for the page's scripts, with the security headers."""
    return _finish(ctx, JSONResponse(data, status_code=status))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def posted(request: Request, ctx: SignedIn) -> tuple[Ctx, dict[str, str]]:
    """A signed-in form POST's fields, once its CSRF token is checked (Refused, 403, without it)."""
    form = await read_form(request)
    if not same_token(form.get("csrf_token"), ctx.session.csrf):
        raise Refused("csrf")
    return ctx, form


async def posted_json(request: Request, ctx: SignedIn) -> tuple[Ctx, dict[str, Any]]:
    """A signed-in JSON POST's body, once the X-CSRF-Token header is checked (Refused, 403, without it)."""
    if not same_token(request.headers.get("x-csrf-token"), ctx.session.csrf):
        raise Refused("csrf")
    body = await request.body()
    try:
        data = json.loads(body[:_FORM_LIMIT] or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Refused("json")
    return ctx, data


Posted = Annotated[tuple[Ctx, dict[str, str]], Depends(posted)]
PostedJSON = Annotated[tuple[Ctx, dict[str, Any]], Depends(posted_json)]


async def read_form(request: Request) -> dict[str, str]:
    """An url-encoded form body as a dict (the last value of repeated fields); at most 64 KiB is read."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _FORM_LIMIT:
            raise Refused("form")
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def install_handlers(app: FastAPI) -> None:
    """Answer the dashboard's errors with pages (or JSON for the scripts' endpoints)."""

    def _plain(request: Request, status: int, key: str) -> Response:
        dashboard = dashboard_of(request)
        language = from_accept_language(request.headers.get("accept-language"))
        session = read_session(request.cookies.get(COOKIE), dashboard.secret)
        if session is not None and session.language:
            language = session.language
        if request.url.path.endswith(".json"):
            return _finish(None, JSONResponse({"error": key}, status_code=status))
        page = dashboard.templates.get_template("error.html").render(
            t=lambda k, **v: translate(language, k, **v),
            lang=language,
            languages=LANGUAGES,
            user=None,
            csrf="",
            nav=[],
            path=request.url.path,
            static=STATIC_PATH,
            status=status,
            message=translate(language, key),
        )
        return _finish(None, HTMLResponse(page, status_code=status))

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.endswith(".json"):
            return _finish(None, JSONResponse({"error": "login required"}, status_code=401))
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _finish(None, RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303))

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return _plain(request, 403, f"error.refused.{exc.reason}")

    @app.exception_handler(Missing)
    async def missing(request: Request, _exc: Missing) -> Response:
        return _plain(request, 404, "error.missing")
