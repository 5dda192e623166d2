"""``/recommendations``: try any customer with any trained algorithm (products, scores and reasons in the
page's language), and read the evaluation reports kept in the reports folder (``dashboard_reports_dir``,
default ``<data dir>/reports``): markdown rendered without raw HTML, charts served beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from markdown_it import MarkdownIt
from markupsafe import Markup

from kizuna.dashboard.web import Ctx, Missing, SignedIn, render
from kizuna.errors import NotFoundError
from kizuna.recommend.registry import ALGORITHMS
from kizuna.recommend.service import Suggestion, models_dir, recommend_for

NAV = ("nav.recommendations", "/recommendations")
router = APIRouter()
_REPORT_NAME = re.compile(r"^[\w\-][\w.\-]{0,200}\.(md|png)$")
#: CommonMark with tables; raw HTML in a report is shown as text, never run.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def reports_dir(ctx: Ctx) -> Path:
    """Where the evaluation reports are."""
    settings = ctx.dashboard.settings
    return settings.dashboard_reports_dir or settings.data_dir / "reports"


def _reports(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("*.md") if p.is_file())[:200]


def _models(ctx: Ctx) -> list[str]:
    folder = models_dir(ctx.dashboard.settings)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.npz"))


@router.get("/recommendations")
async def recommendations_page(
    ctx: SignedIn, customer: str = "", algorithm: str = "default", n: int = 10
) -> Response:
    """The form, the results for the customer asked about, the trained models and the reports."""
    suggestions: list[Suggestion] = []
    error = None
    choices = ["default", *ALGORITHMS]
    if algorithm not in choices:
        algorithm, error = "default", ctx.t("recommend.unknown_algorithm")
    if customer.strip() and error is None:
        try:
            suggestions = await run_in_threadpool(
                recommend_for,
                ctx.store,
                customer.strip(),
                algorithm_name=algorithm,
                n=max(1, min(n, 50)),
                lang=ctx.language,
                models=models_dir(ctx.dashboard.settings),
            )
        except NotFoundError as exc:
            error = str(exc)
        except (OSError, ValueError, EOFError):  # a model file being written, or damaged
            error = ctx.t("customer.model_unreadable")
    return render(
        ctx,
        "recommendations.html",
        customer=customer,
        algorithm=algorithm,
        algorithms=choices,
        n=n,
        suggestions=suggestions,
        error=error,
        models=_models(ctx),
        reports=_reports(reports_dir(ctx)),
    )


@router.get("/recommendations/reports/{name}")
def report_page(ctx: SignedIn, name: str) -> Response:
    """A report rendered as a page, or a chart it shows."""
    folder = reports_dir(ctx)
    if not _REPORT_NAME.match(name) or not (folder / name).is_file():
        raise Missing("report")
    path = folder / name
    if not name.endswith(".md"):
        return FileResponse(path, headers={"X-Content-Type-Options": "nosniff"})
    body = Markup(_MARKDOWN.render(path.read_text(encoding="utf-8", errors="replace")))  # noqa: S704
    return render(ctx, "report.html", name=name, body=body)
