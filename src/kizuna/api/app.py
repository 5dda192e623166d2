"""The FastAPI application: tracking, consent, profiles, privacy, the snippet and the health check."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kizuna import __version__
from kizuna.api import errors
from kizuna.api.deps import WriteKeyCache, writing
from kizuna.api.routes import (
    audiences,
    consent,
    demo_shop,
    health,
    personalize,
    privacy,
    profiles,
    responses,
    snippet,
    tracking,
)
from kizuna.api.schemas import ConsentRequest
from kizuna.config import Settings, get_settings
from kizuna.dashboard import mount_dashboard
from kizuna.ingest.queue import IngestQueue
from kizuna.ingest.segment import MODELS, Batch
from kizuna.recommend.service import models_dir, preload
from kizuna.store.engine import Store, open_store

DESCRIPTION = """\
kizuna's HTTP API.

* **Tracking** (`/v1/identify`, `track`, `page`, `screen`, `group`, `alias`, `batch`): the Segment
  spec, with a write key in HTTP Basic (user name = key, empty password) as Segment's libraries send it, or
  as `writeKey` in the body.
* **Profiles, events, privacy** (`/v1/customers`, `/v1/events`): a secret key as
  `Authorization: Bearer kzs_...` with the scope each route names.
* **Links in messages** (`/v1/unsubscribe/{token}`, `/v1/o/{token}.gif`, `/v1/c/{token}`): one-click
  unsubscribe, the open pixel and tracked clicks, authorised by the signed token in the link.
* **Web personalisation** (`/v1/personalize`, write key): what each `data-kizuna-slot` shows a visitor.
* **Cookie audiences** (`/v1/audiences/{name}/visitors`, secret key with `audiences:read`): anonymous ids
  for an ad server.
* **The snippet** `/kizuna.js` and the public notice of what it sends, `/privacy/transmission`.
"""


def create_app(
    source: Settings | Store | None = None, *, settings: Settings | None = None, warm: bool = False
) -> FastAPI:
    """The API for a store (or the store the settings name; by default, the configured one).

    With ``warm``, the dashboard's store-wide figures are counted and the default and popularity models
    loaded in the background as the app starts, so that the first pages do not wait for them (``kizuna
    serve`` does this).
    """
    if isinstance(source, Store):
        store = source
        settings = settings or get_settings()
    else:
        settings = source or settings or get_settings()
        store = open_store(settings=settings)
    ingest = IngestQueue(store, lock=lambda: writing(store))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warm:
            dashboard.warm()
            threading.Thread(
                target=preload, args=(models_dir(settings),), name="load-models", daemon=True
            ).start()
        yield
        ingest.close()

    app = FastAPI(
        lifespan=lifespan,
        title="kizuna",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.store = store
    app.state.ingest = ingest
    app.state.write_keys = WriteKeyCache(settings.api_key_cache_seconds)
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.api_cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=86_400,
    )
    errors.install(app)
    for module in (health, tracking, consent, profiles, privacy, snippet, responses):
        app.include_router(module.router)
    app.include_router(personalize.router)
    app.include_router(audiences.router)
    if settings.demo_shop_enabled():
        app.include_router(demo_shop.router)
    # The dashboard: pages at / behind their own sign-in; the routes above keep their API keys.
    dashboard = mount_dashboard(app, store, settings)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            # The tracking routes validate their raw body themselves; their schemas are added here.
            models: list[type[BaseModel]] = [Batch, *MODELS.values(), ConsentRequest]
            _, defs = models_json_schema(
                [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(defs["$defs"])
            # Bad input is answered 400 with kizuna's error body (see errors.py), not FastAPI's 422.
            for operations in schema["paths"].values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """The app for ``KIZUNA_*`` settings: what ``kizuna serve`` runs in each worker process."""
    return create_app(get_settings(), warm=True)
