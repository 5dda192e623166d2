"""``/v1/audiences/{name}/visitors``: cookie-based retargeting audiences for an ad server (secret key with the
``audiences:read`` scope)."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from kizuna.api.deps import AudiencesKey, StoreDep
from kizuna.api.errors import ERROR_RESPONSES
from kizuna.channels.audiences.visitors import VisitorList, audience_visitors, find_audience, load_audiences
from kizuna.config import Settings
from kizuna.store.engine import Store
from kizuna.store.types import utcnow

router = APIRouter(prefix="/v1/audiences", tags=["audiences"], responses=ERROR_RESPONSES)


#: How long the pages after the first are served from the list the first page computed.
SNAPSHOT_SECONDS = 600.0

#: The list each audience's latest first page computed, by (store URL, audience), with when it was computed.
_snapshots: dict[tuple[str, str], tuple[float, VisitorList]] = {}
_lock = threading.Lock()


def _visitors(store: Store, settings: Settings, name: str, continuing: bool) -> VisitorList:
    """The audience's list. A first page (no cursor) always computes it afresh, so a consent withdrawn or a
    purchase made since the last listing counts at once; the pages after it read the same list, so a listing
    is consistent and costs one computation however many pages it has."""
    key = (store.url, name)
    if continuing:
        with _lock:
            kept = _snapshots.get(key)
        if kept is not None and time.monotonic() - kept[0] < SNAPSHOT_SECONDS:
            return kept[1]
    audience = find_audience(load_audiences(settings.web_audiences_file), name)
    with store.session() as session:
        found = audience_visitors(session, audience, utcnow())
    with _lock:
        _snapshots[key] = (time.monotonic(), found)
    return found


def _page(store: Store, settings: Settings, name: str, cursor: str | None, limit: int) -> dict[str, Any]:
    found = _visitors(store, settings, name, continuing=cursor is not None)
    ids = found.anonymous_ids
    after = [a for a in ids if cursor is None or a > cursor]
    page = after[:limit]
    return {
        "audience": found.name,
        "generated_at": found.generated_at.isoformat(),
        "count": len(ids),
        "anonymous_ids": page,
        "next_cursor": page[-1] if len(after) > limit else None,
    }


@router.get("/{name}/visitors")
async def audience_visitor_ids(
    name: str,
    request: Request,
    _key: AudiencesKey,
    store: StoreDep,
    cursor: Annotated[
        str | None, Query(max_length=128, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> dict[str, Any]:
    """The anonymous ids in cookie audience ``name`` whose ads consent is in force, sorted, a page at a time:
    ``{audience, generated_at, count, anonymous_ids, next_cursor}``; ``count`` is the whole audience's size,
    and ``next_cursor`` (null on the last page) is passed back as ``cursor`` for the next page."""
    settings: Settings = request.app.state.settings
    return await run_in_threadpool(_page, store, settings, name, cursor, limit)
