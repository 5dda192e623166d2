"""Errors as JSON a client can act on: ``{"success": false, "error", "message", "errors": [{"field", ...}]}``.

Bad input is a 400 whose message names the field (``batch.3.event: Field required``), a body over the limit
413, a missing or wrong key 401, a key without the right kind or scope 403, an unknown customer 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from kizuna.api.deps import MalformedJSON, PayloadTooLarge
from kizuna.errors import AuthenticationError, ConfigError, NotFoundError, PermissionDeniedError
from kizuna.ingest.segment import MODELS

#: The schema of the error body, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {"application/json": {"example": example}}}
    for code, text, example in [
        (
            400,
            "Bad input; the message names the field",
            {"success": False, "error": "invalid_request", "message": "batch.0.event: Field required"},
        ),
        (401, "No API key, or an unknown or revoked one", {"success": False, "error": "unauthorized"}),
        (403, "The key may not do this (kind or scope)", {"success": False, "error": "forbidden"}),
        (413, "The body is over the configured limit", {"success": False, "error": "payload_too_large"}),
    ]
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('batch', 3, 'track', 'event')`` → ``batch.3.event``: the union's tag is no field the client sent."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in MODELS and i > 0 and isinstance(loc[i - 1], int):
            continue
        parts.append(str(part))
    return ".".join(parts)


def _body(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"success": False, "error": error, "message": message, **extra}, status_code=status)


def describe(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """One message naming the first bad field, and every error as ``{field, message, type}``."""
    listed = []
    for e in errors:
        where = field_path(tuple(x for x in e["loc"] if x != "body"))
        if e["type"] == "union_tag_not_found":
            where = f"{where}.type" if where else "type"
            message = "field required: one of identify, track, page, screen, group, alias"
        elif e["type"] == "union_tag_invalid":
            where = f"{where}.type" if where else "type"
            message = "unknown message type: use identify, track, page, screen, group or alias"
        elif e["type"] == "json_invalid":
            message = f"the body is not valid JSON ({e.get('ctx', {}).get('error', e['msg'])})"
        else:
            message = e["msg"]
        listed.append({"field": where, "message": message, "type": e["type"]})
    first = listed[0] if listed else {"field": "", "message": "invalid request"}
    headline = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    if len(listed) > 1:
        headline += f" (and {len(listed) - 1} more)"
    return headline, listed


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ValidationError)
    async def invalid(_request: Request, exc: ValidationError) -> JSONResponse:
        message, listed = describe([dict(e) for e in exc.errors()])
        kind = "invalid_json" if listed and listed[0]["type"] == "json_invalid" else "invalid_request"
        return _body(400, kind, message, errors=listed)

    @app.exception_handler(RequestValidationError)
    async def invalid_params(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, listed = describe([dict(e) for e in exc.errors()])
        return _body(400, "invalid_request", message, errors=listed)

    @app.exception_handler(MalformedJSON)
    async def malformed(_request: Request, exc: MalformedJSON) -> JSONResponse:
        return _body(400, "invalid_json", str(exc))

    @app.exception_handler(PayloadTooLarge)
    async def too_large(_request: Request, exc: PayloadTooLarge) -> JSONResponse:
        return _body(413, "payload_too_large", str(exc), limit=exc.limit)

    @app.exception_handler(AuthenticationError)
    async def unauthorised(request: Request, exc: AuthenticationError) -> JSONResponse:
        response = _body(401, "unauthorized", str(exc))
        secret = request.url.path.startswith(("/v1/customers", "/v1/events"))
        scheme = "Bearer" if secret else 'Basic realm="kizuna"'
        response.headers["WWW-Authenticate"] = scheme
        return response

    @app.exception_handler(PermissionDeniedError)
    async def forbidden(_request: Request, exc: PermissionDeniedError) -> JSONResponse:
        return _body(403, "forbidden", str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(_request: Request, exc: NotFoundError) -> JSONResponse:
        return _body(404, "not_found", str(exc))

    @app.exception_handler(ConfigError)
    async def bad_option(_request: Request, exc: ConfigError) -> JSONResponse:
        return _body(400, "invalid_request", str(exc))
