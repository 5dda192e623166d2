"""``/scenarios``: the scenarios with their status and figures; ``/scenarios/{name}``: the flow as a diagram
with per-step counts (runs waiting, deliveries by status, responses by kind) and finished runs, pause and
resume, and the results (:func:`kizuna.measure.campaign.measure_scenario`: per arm against control with the
uplift's interval and verdict, and per step, arm and channel); ``/scenarios/{name}/preview``: who would enter
now and what they would receive.

Counts come from the indexes on scenario runs, deliveries (scenario, step, status) and responses (scenario,
kind), kept for ``dashboard_cache_seconds``; pausing or resuming forgets them. The results read every run of
the scenario, so they go through the same figures cache: measured when the page is first opened, then
reused and measured again in the background once older than the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import func, select

from kizuna.dashboard.flow import StepCounts, diagram
from kizuna.dashboard.web import Ctx, Dashboard, Missing, Posted, SignedIn, redirect, render
from kizuna.errors import NotFoundError
from kizuna.measure.campaign import ScenarioMeasurement, measure_scenario
from kizuna.scenarios.preview import preview
from kizuna.scenarios.registry import SavedScenario, get_scenario, list_scenarios, set_status
from kizuna.scenarios.report import describe_trigger, scenario_stats
from kizuna.store.automation import Delivery
from kizuna.store.automation import Response as ResponseRow
from kizuna.store.engine import Store
from kizuna.store.types import utcnow

NAV = ("nav.scenarios", "/scenarios")
router = APIRouter()
PREVIEW = 10


@dataclass(frozen=True)
class Figures:
    """What happened in one scenario: per step, and finished runs per reason."""

    steps: dict[str, StepCounts]
    exits: dict[str, int]

    @property
    def in_progress(self) -> int:
        """Runs waiting anywhere."""
        return sum(c.waiting for c in self.steps.values())

    @property
    def deliveries(self) -> int:
        """Deliveries written, whatever became of them."""
        return sum(sum(c.deliveries.values()) for c in self.steps.values())


def figures(store: Store, scenario_id: int) -> Figures:
    """Count the scenario's runs, deliveries and responses per step."""
    steps: dict[str, StepCounts] = {}
    with store.session() as session:
        stats = scenario_stats(session, scenario_id)
        for step, waiting in stats.waiting.items():
            steps.setdefault(step, StepCounts()).waiting = waiting
        for step, status, n in session.execute(
            select(Delivery.step, Delivery.status, func.count())
            .where(Delivery.scenario_id == scenario_id)
            .group_by(Delivery.step, Delivery.status)
        ):
            steps.setdefault(step or "?", StepCounts()).deliveries[status] = int(n)
        for step, kind, n in session.execute(
            select(ResponseRow.step, ResponseRow.kind, func.count())
            .where(ResponseRow.scenario_id == scenario_id)
            .group_by(ResponseRow.step, ResponseRow.kind)
        ):
            steps.setdefault(step or "?", StepCounts()).responses[kind] = int(n)
    return Figures(steps, dict(stats.exits))


def _figures(ctx: Ctx, saved: SavedScenario) -> Figures:
    return ctx.dashboard.aggregates.get(f"scenario:{saved.id}", lambda: figures(ctx.store, saved.id))


def results(ctx: Ctx, saved: SavedScenario) -> ScenarioMeasurement:
    """The scenario's measurement, through the figures cache."""

    def measure() -> ScenarioMeasurement:
        with ctx.store.session() as session:
            return measure_scenario(session, saved.name, settings=ctx.dashboard.settings)

    return ctx.dashboard.aggregates.get(f"scenario-results:{saved.id}", measure)


def warm_scenarios(dashboard: Dashboard) -> list[tuple[str, Callable[[], Any]]]:
    """Each scenario's counts and results, for :meth:`Dashboard.warm` (active scenarios first)."""
    store, settings = dashboard.store, dashboard.settings
    found: list[tuple[str, Callable[[], Any]]] = []
    for saved in sorted(list_scenarios(store), key=lambda s: (s.status != "active", s.name)):

        def measure(name: str = saved.name) -> ScenarioMeasurement:
            with store.session() as session:
                return measure_scenario(session, name, settings=settings)

        found.append((f"scenario:{saved.id}", partial(figures, store, saved.id)))
        found.append((f"scenario-results:{saved.id}", measure))
    return found


#: Counted in the background as the server starts and when someone signs in (see Dashboard.warm).
WARMERS = [warm_scenarios]


def _saved(ctx: Ctx, name: str) -> SavedScenario:
    try:
        return get_scenario(ctx.store, name)
    except NotFoundError:
        raise Missing("scenario") from None


@router.get("/scenarios")
def scenarios_page(ctx: SignedIn) -> Response:
    """Every scenario, with its trigger, status, runs in progress and deliveries."""
    rows = [(s, describe_trigger(s.definition.trigger), _figures(ctx, s)) for s in list_scenarios(ctx.store)]
    return render(ctx, "scenarios.html", rows=rows)


@router.get("/scenarios/{name}")
def scenario_page(ctx: SignedIn, name: str) -> Response:
    """One scenario's flow and figures."""
    saved = _saved(ctx, name)
    found = _figures(ctx, saved)
    picture = diagram(saved.definition, found.steps, found.exits, ctx.t)
    measured = results(ctx, saved)
    verdict_language = "ja" if ctx.language == "ja" else "en"
    return render(
        ctx, "scenario.html", s=saved, figures=found, diagram=picture, results=measured,
        verdict_language=verdict_language,
    )  # fmt: skip


def _switch(ctx: Ctx, name: str, status: Literal["active", "paused"]) -> Response:
    ctx.require_change()
    try:
        set_status(ctx.store, name, status)
    except NotFoundError:
        raise Missing("scenario") from None
    ctx.dashboard.aggregates.forget()
    return redirect(ctx, f"/scenarios/{name}")


@router.post("/scenarios/{name}/pause")
def pause(posted: Posted, name: str) -> Response:
    """Pause: no new entrants, nobody moves on, until resumed (not for viewers)."""
    return _switch(posted[0], name, "paused")


@router.post("/scenarios/{name}/resume")
def resume(posted: Posted, name: str) -> Response:
    """Resume a paused scenario (not for viewers)."""
    return _switch(posted[0], name, "active")


@router.get("/scenarios/{name}/preview")
async def preview_page(ctx: SignedIn, name: str) -> Response:
    """Who would enter now, how many would be kept back, and the paths of the first few."""
    saved = _saved(ctx, name)
    found = await run_in_threadpool(preview, ctx.store, saved.definition, now=utcnow(), limit=PREVIEW)
    return render(ctx, "scenario_preview.html", s=saved, preview=found)
