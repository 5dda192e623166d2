"""Links in messages: one-click unsubscribe (RFC 8058), the open pixel, tracked clicks and QR codes on
paper (no API key).

Each link carries a token signed for its purpose (``kizuna.channels.tokens``) under the one secret
``KIZUNA_LINK_SECRET``, which the email channel already needs; without it every link is refused.
The token names the delivery, so each response is recorded against the message, scenario, step and arm it
answers. No IP address is stored, only the user agent's family.
"""

from __future__ import annotations

import base64
import html
from contextlib import suppress
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kizuna.api.deps import SettingsDep, StoreDep, writing
from kizuna.api.errors import ERROR_RESPONSES
from kizuna.channels.responses import ResponseKind, record_response, unsubscribe, user_agent_family
from kizuna.channels.tokens import LinkPurpose, LinkTokenError, read_link_token
from kizuna.config import Settings
from kizuna.errors import NotFoundError
from kizuna.security.stored import link_secret
from kizuna.store.automation import Delivery
from kizuna.store.types import utcnow

router = APIRouter(prefix="/v1", tags=["responses"], responses=ERROR_RESPONSES)

#: A 1×1 transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0", "Pragma": "no-cache"}

_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; padding: 0 1em">
{body}
</body></html>
"""
_CONFIRM = """<h1>配信停止 / Unsubscribe</h1>
<p>このメールアドレスへのメール配信を停止します。よろしければボタンを押してください。</p>
<p>Stop receiving these emails? Press the button to unsubscribe.</p>
<form method="post" action="{action}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">配信を停止する / Unsubscribe</button>
</form>"""
_DONE = """<h1>配信を停止しました / You are unsubscribed</h1>
<p>今後、このメールアドレスにはメールをお送りしません。</p>
<p>You will receive no more of these emails.</p>"""


def _secret(settings: Settings) -> str:
    return link_secret(settings)


def _delivery_key(token: str, settings: Settings, purpose: LinkPurpose, url: str | None = None) -> str:
    try:
        return read_link_token(token, _secret(settings), purpose, url=url)
    except LinkTokenError as exc:
        raise NotFoundError(f"{exc}: use the link exactly as it appears in the message") from None


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, body=body), headers=NO_CACHE)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str, settings: SettingsDep) -> HTMLResponse:
    """A page (Japanese and English) with a button that unsubscribes; opening it changes nothing, since
    mail scanners follow links in messages (RFC 8058)."""
    _delivery_key(token, settings, LinkPurpose.UNSUBSCRIBE)
    return _page("配信停止 / Unsubscribe", _CONFIRM.format(action=html.escape(f"/v1/unsubscribe/{token}")))


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_now(token: str, request: Request, settings: SettingsDep, store: StoreDep) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058; mail clients post ``List-Unsubscribe=One-Click``): the customer's
    ``email`` consent is withdrawn (source ``one-click unsubscribe``) and an ``unsubscribe`` response is
    recorded. Posting again answers the same and records nothing new."""
    key = _delivery_key(token, settings, LinkPurpose.UNSUBSCRIBE)
    details = {"user_agent": user_agent_family(request.headers.get("user-agent"))}
    with writing(store), store.session() as session, session.begin():
        unsubscribe(session, key, at=utcnow(), details=details)
    return _page("配信停止 / Unsubscribed", _DONE)


@router.get("/o/{token}.gif", response_class=Response, responses={200: {"content": {"image/gif": {}}}})
def open_pixel(token: str, request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """The open pixel: records an ``open`` and answers a 1×1 transparent GIF that is never cached. A token
    that is not genuine gets the same GIF and records nothing (a broken image would tell nobody anything)."""
    try:
        key = _delivery_key(token, settings, LinkPurpose.OPEN)
    except NotFoundError:
        key = None
    if key is not None:
        details = {"user_agent": user_agent_family(request.headers.get("user-agent"))}
        # A delivery deleted with its customer leaves nothing to record against.
        with writing(store), store.session() as session, session.begin(), suppress(NotFoundError):
            record_response(session, key, ResponseKind.OPEN, at=utcnow(), details=details)
    return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)


@router.get("/c/{token}", response_class=RedirectResponse, status_code=302)
def click(
    token: str,
    u: Annotated[str, Query(description="The target URL, as signed into the token")],
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
) -> RedirectResponse:
    """A tracked link: records a ``click`` and redirects (302) to ``u``, only when ``u`` is the URL signed
    into the token together with the delivery, so this is never an open redirect."""
    key = _delivery_key(token, settings, LinkPurpose.CLICK, url=u)
    if not u.startswith(("https://", "http://")):
        raise NotFoundError("the link's target is not a web address")
    details = {"url": u, "user_agent": user_agent_family(request.headers.get("user-agent"))}
    with writing(store), store.session() as session, session.begin():
        record_response(session, key, ResponseKind.CLICK, at=utcnow(), details=details)
    return RedirectResponse(u, status_code=302, headers=NO_CACHE)


def _landing(settings: Settings, coupon: str | None) -> str:
    base = settings.dm_landing_url or f"{settings.public_base_url or ''}/"
    if not base.startswith(("https://", "http://")):
        raise NotFoundError(
            "scanned codes lead nowhere here: set KIZUNA_DM_LANDING_URL or KIZUNA_PUBLIC_BASE_URL"
        )
    if coupon is None:
        return base
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'coupon': coupon})}"


@router.get("/q/{token}", response_class=RedirectResponse, status_code=302)
def scan(token: str, request: Request, settings: SettingsDep, store: StoreDep) -> RedirectResponse:
    """A QR code on paper direct mail: records a ``scan`` and redirects (302) to the landing page
    (``KIZUNA_DM_LANDING_URL``, default the public base URL), with the piece's coupon as ``?coupon=CODE``."""
    key = _delivery_key(token, settings, LinkPurpose.SCAN)
    details = {"user_agent": user_agent_family(request.headers.get("user-agent"))}
    with writing(store), store.session() as session, session.begin():
        response = record_response(session, key, ResponseKind.SCAN, at=utcnow(), details=details)
        delivery = session.get(Delivery, response.delivery_id)
        coupon = delivery.payload.get("coupon") if delivery is not None else None
    return RedirectResponse(
        _landing(settings, str(coupon) if coupon else None), status_code=302, headers=NO_CACHE
    )
