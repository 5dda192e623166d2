"""Signing in and out, and choosing the language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kizuna.dashboard.i18n import LANGUAGES
from kizuna.dashboard.security import COOKIE, same_token
from kizuna.dashboard.users import authenticate, password_hash_of, set_language
from kizuna.dashboard.web import (
    Ctx,
    Posted,
    Refused,
    Visitor,
    read_form,
    redirect,
    render,
    safe_next,
    start_session,
)
from kizuna.errors import AuthenticationError

NAV = None
router = APIRouter()


@router.get("/login")
def login_form(ctx: Visitor, next: str = "/", lang: str | None = None) -> Response:
    """The sign-in form (in ``lang`` when given)."""
    if lang in LANGUAGES:
        ctx.session = ctx.session.with_language(lang)
        ctx.language, ctx.renew_cookie = lang, True
    if ctx.user is not None:
        return redirect(ctx, safe_next(next))
    return render(ctx, "login.html", next=safe_next(next), error=None)


def _sign_in(ctx: Ctx, email: str, password: str, address: str) -> str | None:
    """None when signed in; the catalogue key of the error otherwise."""
    limiter = ctx.dashboard.limiter
    account, ip = f"account:{email.strip().lower()}", f"ip:{address}"
    if limiter.blocked(account, ip):
        return "login.too_many"
    with ctx.store.session() as session:
        try:
            user = authenticate(session, email, password)
        except AuthenticationError:
            limiter.failed(account, ip)
            return "login.wrong"
        stored = password_hash_of(session, user.id)
        session.commit()
    assert stored is not None
    limiter.succeeded(account)
    start_session(ctx, user, stored)
    # Counted now, the overview first, so that they are ready by the time the pages are opened.
    ctx.dashboard.warm()
    return None


@router.post("/login")
async def login(request: Request, ctx: Visitor) -> Response:
    """Check the login and password; start a session (a new one, with a new CSRF token) when right."""
    form = await read_form(request)
    if not same_token(form.get("csrf_token"), ctx.session.csrf):
        raise Refused("csrf")
    address = request.client.host if request.client else "?"
    error = await run_in_threadpool(_sign_in, ctx, form.get("email", ""), form.get("password", ""), address)
    target = safe_next(form.get("next"))
    if error is not None:
        return render(
            ctx, "login.html", status=401 if error == "login.wrong" else 429, next=target, error=error
        )
    return redirect(ctx, target)


@router.post("/logout")
def logout(posted: Posted) -> Response:
    """End the session."""
    response = redirect(None, "/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/language")
async def language(request: Request, ctx: Visitor) -> Response:
    """Switch the session's language (and remember it as the user's), signed in or not (the sign-in page
    has the switch too)."""
    form = await read_form(request)
    if not same_token(form.get("csrf_token"), ctx.session.csrf):
        raise Refused("csrf")
    await run_in_threadpool(_remember_language, ctx, form.get("lang", ""))
    return redirect(ctx, safe_next(form.get("back")))


def _remember_language(ctx: Ctx, chosen: str) -> None:
    if chosen in LANGUAGES:
        ctx.session = ctx.session.with_language(chosen)
        ctx.renew_cookie = True
        if ctx.user is not None:
            with ctx.store.session() as session:
                set_language(session, ctx.user.id, chosen)
                session.commit()
