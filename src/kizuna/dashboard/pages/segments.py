"""``/segments``: segments with their member counts (as last rebuilt), and ``/segments/new``: a form that
builds a condition, shows its YAML, counts its members live and previews some of them, then saves it.

The live count is ``POST /segments/count.json`` (the form's fields as JSON, the CSRF token in the
``X-CSRF-Token`` header), used by the page's script as the form changes; without scripts the form's Preview
button does the same by a plain POST.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import func, select, text

from kizuna.dashboard.builder import KINDS, MEASURES, OPERATORS, ROWS, as_yaml, condition_from_form
from kizuna.dashboard.web import Ctx, Posted, PostedJSON, SignedIn, json_response, redirect, render
from kizuna.errors import ConfigError
from kizuna.privacy.consent import Purpose
from kizuna.segments.compiler import customer_ids_query
from kizuna.segments.conditions import Condition
from kizuna.segments.membership import rebuild
from kizuna.segments.registry import (
    SegmentDefinition,
    check_name,
    list_segments,
    save_segments,
    stored_conditions,
)
from kizuna.store.engine import Store
from kizuna.store.tables import Customer
from kizuna.store.types import utcnow

NAV = ("nav.segments", "/segments")
router = APIRouter()
PREVIEW = 10
#: Longest a live count may run on PostgreSQL before it is given up, in milliseconds.
COUNT_TIMEOUT_MS = 20_000


@dataclass
class Trial:
    """A condition tried out: its YAML, member count and first members, or the error in it."""

    form: dict[str, str]
    yaml: str = ""
    count: int | None = None
    members: list[tuple[int, str, str | None]] = field(default_factory=list)
    error: str | None = None

    def to_data(self) -> dict[str, Any]:
        """For the page's script."""
        return {
            "yaml": self.yaml,
            "count": self.count,
            "members": [{"id": i, "external_id": e, "name": n} for i, e, n in self.members],
            "error": self.error,
        }


def try_condition(store: Store, condition: Condition, form: dict[str, str]) -> Trial:
    """Count the customers matching ``condition`` now and read the first few, writing nothing."""
    trial = Trial(form, yaml=as_yaml(condition))
    with store.engine.connect() as conn, conn.begin():
        if store.dialect == "postgresql":
            conn.execute(text(f"SET LOCAL statement_timeout = {COUNT_TIMEOUT_MS}"))
        conditions = stored_conditions(conn)
        query = customer_ids_query(condition, now=utcnow(), resolve=conditions.__getitem__).subquery()
        trial.count = int(conn.execute(select(func.count()).select_from(query)).scalar_one())
        rows = conn.execute(
            select(Customer.id, Customer.external_id, Customer.name)
            .where(Customer.id.in_(select(query.c.customer_id)))
            .order_by(Customer.id)
            .limit(PREVIEW)
        )
        trial.members = [(int(i), str(e), n) for i, e, n in rows]
    return trial


def _try_form(store: Store, form: dict[str, str]) -> Trial:
    try:
        condition = condition_from_form(form)
    except ConfigError as exc:
        return Trial(form, error=str(exc))
    try:
        return try_condition(store, condition, form)
    except ConfigError as exc:
        return Trial(form, yaml=as_yaml(condition), error=str(exc))


def _form_page(ctx: Ctx, trial: Trial, status: int = 200) -> Response:
    return render(
        ctx,
        "segment_new.html",
        status=status,
        trial=trial,
        rows=range(ROWS),
        kinds=KINDS,
        operators=OPERATORS,
        measures=MEASURES,
        purposes=[p.value for p in Purpose],
    )


@router.get("/segments")
def segments_page(ctx: SignedIn) -> Response:
    """Every segment with its member count as last rebuilt."""
    return render(ctx, "segments.html", segments=list_segments(ctx.store))


@router.get("/segments/new")
def new_segment(ctx: SignedIn) -> Response:
    """The empty form."""
    return _form_page(ctx, Trial({"match": "all", "c0_kind": "measure", "c0_field": "frequency",
                                  "c0_op": "gte", "c0_value": "1"}))  # fmt: skip


def _save(ctx: Ctx, form: dict[str, str]) -> Trial | None:
    trial = _try_form(ctx.store, form)
    if trial.error is not None:
        return trial
    try:
        name = check_name(form.get("name", "").strip(), "name")
        condition = condition_from_form(form)
        description = form.get("description", "").strip() or None
        save_segments(ctx.store, [SegmentDefinition(name, condition, description)])
    except ConfigError as exc:
        trial.error = str(exc)
        return trial
    rebuild(ctx.store, name, now=utcnow())
    ctx.dashboard.aggregates.forget()
    return None


@router.post("/segments/new")
async def post_segment(posted: Posted) -> Response:
    """Preview (``action=preview``) or save (``action=save``, not for viewers) the segment in the form."""
    ctx, form = posted
    if form.get("action") == "save":
        ctx.require_change()
        failed = await run_in_threadpool(_save, ctx, form)
        if failed is None:
            return redirect(ctx, "/segments")
        return _form_page(ctx, failed, status=400)
    trial = await run_in_threadpool(_try_form, ctx.store, form)
    return _form_page(ctx, trial, status=200 if trial.error is None else 400)


@router.post("/segments/count.json")
async def count_segment(posted: PostedJSON) -> Response:
    """The live count: the form's fields in, the YAML, count and first members (or the error) out."""
    ctx, data = posted
    form = {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int, float))}
    trial = await run_in_threadpool(_try_form, ctx.store, form)
    return json_response(ctx, trial.to_data(), status=200 if trial.error is None else 400)
