"""``/privacy``: the export and erasure requests carried out (newest first, a page at a time), and for
admins a form to start one: it names the customer and what will happen, and acts only once confirmed.

An export is handed over as a JSON download; a deletion or anonymisation runs in one transaction, as
``kizuna privacy`` does, and both are recorded in ``privacy_requests``.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from kizuna.dashboard.web import Ctx, Posted, SignedIn, redirect, render
from kizuna.errors import NotFoundError
from kizuna.privacy.erase import delete_customer
from kizuna.privacy.export import export_customer
from kizuna.profiles import find_customer
from kizuna.store.access import PrivacyRequest

NAV = ("nav.privacy", "/privacy")
router = APIRouter()
PAGE = 50
KINDS = ("export", "delete", "anonymise")


def _requested_by(ctx: Ctx) -> str:
    assert ctx.user is not None
    return f"dashboard:{ctx.user.email}"


@router.get("/privacy")
def privacy_page(ctx: SignedIn, before: int | None = None) -> Response:
    """The requests, newest first."""
    return _list_page(ctx, before)


def _list_page(ctx: Ctx, before: int | None, error: str | None = None) -> Response:
    query = select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(PAGE)
    if before is not None:
        query = query.where(PrivacyRequest.id < before)
    with ctx.store.session() as session:
        requests = list(session.scalars(query))
    more = requests[-1].id if len(requests) == PAGE else None
    status = 400 if error else 200
    return render(ctx, "privacy.html", status=status, requests=requests, more=more, kinds=KINDS, error=error)


@router.post("/privacy/confirm")
def confirm(posted: Posted) -> Response:
    """Step one (admins): find the customer and ask for confirmation."""
    ctx, form = posted
    ctx.require_admin()
    kind, key = form.get("kind", ""), form.get("customer", "").strip()
    with ctx.store.session() as session:
        try:
            customer = find_customer(session, key) if kind in KINDS and key else None
        except NotFoundError:
            customer = None
        found = None if customer is None else (customer.id, customer.external_id, customer.name)
    if found is None:
        return _list_page(ctx, None, "privacy.no_customer")
    return render(ctx, "privacy_confirm.html", kind=kind, customer=found)


def _carry_out(ctx: Ctx, kind: str, customer_id: int) -> dict[str, object] | None:
    with ctx.store.session() as session:
        if kind == "export":
            data = export_customer(session, customer_id, requested_by=_requested_by(ctx))
            session.commit()
            return data
        mode: Literal["delete", "anonymise"] = "anonymise" if kind == "anonymise" else "delete"
        delete_customer(session, customer_id, mode=mode, requested_by=_requested_by(ctx))
        session.commit()
    ctx.dashboard.aggregates.forget()
    return None


@router.post("/privacy/run")
async def run(posted: Posted) -> Response:
    """Step two (admins, confirmed): carry the request out."""
    ctx, form = posted
    ctx.require_admin()
    kind = form.get("kind", "")
    if kind not in KINDS or form.get("confirm") != "yes" or not form.get("customer_id", "").isdigit():
        return redirect(ctx, "/privacy")
    data = await run_in_threadpool(_carry_out, ctx, kind, int(form["customer_id"]))
    if data is None:
        return redirect(ctx, "/privacy")
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = Response(body, media_type="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="export-{int(form["customer_id"])}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response
