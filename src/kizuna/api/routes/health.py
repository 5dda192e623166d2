"""``/healthz``: whether the server is up and its store answers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kizuna.api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Health check")
def healthz(store: StoreDep) -> JSONResponse:
    """200 with ``{"status": "ok"}`` when the store answers a query, 503 otherwise."""
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc).splitlines()[0]}, status_code=503)
    return JSONResponse({"status": "ok", "database": store.dialect})
