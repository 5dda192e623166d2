"""The Segment-compatible tracking API: ``/v1/identify``, ``track``, ``page``, ``screen``, ``group``,
``alias`` and ``batch``.

A site instrumented with Segment's libraries points them at kizuna by changing the host. Server libraries
send the write key in HTTP Basic; analytics.js sends it in the body, as ``text/plain`` to spare a CORS
preflight, to the short paths ``/v1/t``, ``/v1/p`` ... (also accepted here). A batch is written all or nothing
and committed before the answer (see :mod:`kizuna.ingest.queue`): a 200 means the batch is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from kizuna.api.deps import IngestDep, StoreDep, WriteKeyDep, check_key
from kizuna.api.errors import ERROR_RESPONSES
from kizuna.ingest.queue import IngestQueue
from kizuna.ingest.segment import MODELS, Batch
from kizuna.ingest.tracking import Incoming, IngestResult, parse_batch
from kizuna.security.keys import KeyKind
from kizuna.store.types import utcnow

router = APIRouter(prefix="/v1", tags=["tracking"], responses=ERROR_RESPONSES)

#: Short paths analytics.js (analytics-next) posts to, by message type.
SHORT_PATHS = {"identify": "i", "track": "t", "page": "p", "screen": "s", "group": "g", "alias": "a"}

_ANSWER: dict[str, Any] = IngestResult(received=1, stored=1).as_dict()


def request_body(model: type) -> dict[str, Any]:
    """The OpenAPI request body for a route that validates its raw body itself."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ref}, "text/plain": {"schema": ref}},
        }
    }


async def store_messages(ingest: IngestQueue, incoming: Callable[[], Incoming]) -> JSONResponse:
    """Hand the messages (parsed by the writer) over and answer once they are committed."""
    result = await asyncio.wrap_future(ingest.submit(incoming))
    return JSONResponse(result.as_dict())


async def batch(tracking: WriteKeyDep, ingest: IngestDep) -> JSONResponse:
    """Several messages of any type, written all or nothing; duplicates (by messageId) are skipped."""
    received_at = utcnow()
    body = tracking.decoded if tracking.decoded is not None else tracking.body
    return await store_messages(ingest, lambda: Incoming.of(parse_batch(body), received_at))


def _single(kind: str) -> Callable[[Any, IngestQueue], Awaitable[JSONResponse]]:
    adapter: TypeAdapter[Any] = TypeAdapter(MODELS[kind])

    async def endpoint(tracking: WriteKeyDep, ingest: IngestDep) -> JSONResponse:
        received_at = utcnow()

        def parse() -> Incoming:
            if tracking.decoded is not None:
                return Incoming([adapter.validate_python(tracking.decoded)], received_at)
            return Incoming([adapter.validate_json(tracking.body)], received_at)

        return await store_messages(ingest, parse)

    endpoint.__doc__ = (MODELS[kind].__doc__ or "").strip() + " Segment's `" + kind + "` call."
    return endpoint


router.add_api_route(
    "/batch",
    batch,
    methods=["POST"],
    summary="Send a batch of messages",
    openapi_extra=request_body(Batch),
    responses={200: {"content": {"application/json": {"example": {**_ANSWER, "received": 100}}}}},
)
router.add_api_route("/b", batch, methods=["POST"], include_in_schema=False)
for _kind, _model in MODELS.items():
    _endpoint = _single(_kind)
    router.add_api_route(
        f"/{_kind}",
        _endpoint,
        methods=["POST"],
        summary=f"Send one {_kind} message",
        openapi_extra=request_body(_model),
        responses={200: {"content": {"application/json": {"example": _ANSWER}}}},
    )
    router.add_api_route(f"/{SHORT_PATHS[_kind]}", _endpoint, methods=["POST"], include_in_schema=False)


@router.get("/projects/{write_key}/settings", include_in_schema=False)
async def analytics_js_settings(write_key: str, request: Request, store: StoreDep) -> JSONResponse:
    """What analytics.js (analytics-next) fetches from Segment's CDN at start-up, so that loading it with
    ``cdnURL`` pointing at kizuna is all it takes: events go to this server, nothing to Segment."""
    await run_in_threadpool(check_key, store, write_key, kind=KeyKind.WRITE)
    return JSONResponse(
        {
            "integrations": {
                "Segment.io": {
                    "apiKey": write_key,
                    "apiHost": f"{request.url.netloc}/v1",
                    "protocol": request.url.scheme,
                }
            },
            "plan": {},
            "metrics": {"sampleRate": 0},
            "remotePlugins": [],
            "enabledMiddleware": {},
            "middlewareSettings": {},
        }
    )
