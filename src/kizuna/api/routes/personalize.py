"""``/v1/personalize``: what each ``data-kizuna-slot`` on a page shows this visitor (the site's write key).

Browsers send the write key as ``writeKey`` in a ``text/plain`` JSON body (no CORS preflight), or in the query
of a GET; servers may use HTTP Basic. A visitor is named by the snippet's cookie id (``anonymousId``);
naming a customer by ``userId`` needs a secret key with the ``profiles:read`` scope, since
anyone can read a write key
from a page and claim to be someone else.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from kizuna.api.deps import (
    BodyDep,
    KeyInfo,
    StoreDep,
    WriteKeyCache,
    basic_user,
    check_key,
    get_key_cache,
    key_in_body,
    writing,
)
from kizuna.api.errors import ERROR_RESPONSES
from kizuna.api.routes.tracking import request_body
from kizuna.config import Settings
from kizuna.errors import AuthenticationError, PermissionDeniedError
from kizuna.recommend.service import models_dir
from kizuna.security.keys import KeyKind
from kizuna.store.engine import Store
from kizuna.store.types import utcnow
from kizuna.web.deliveries import WROTE
from kizuna.web.personalise import personalise
from kizuna.web.slots import load_slots
from kizuna.web.visitor import PageRequest

router = APIRouter(prefix="/v1", tags=["web"], responses=ERROR_RESPONSES)

Name = Annotated[str, Field(min_length=1, max_length=100)]
Key = Annotated[str, Field(min_length=1, max_length=128)]


class PersonalizeRequest(BaseModel):
    """The slots of a page and who is looking at it."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    slot: Name | None = None
    slots: list[Name] | None = Field(default=None, min_length=1, max_length=20)
    anonymous_id: Key | None = Field(default=None, alias="anonymousId")
    user_id: Key | None = Field(default=None, alias="userId")
    product: Key | None = Field(default=None, description="SKU of the product page, for related products.")
    lang: str = Field(default="ja", pattern=r"^[A-Za-z]{2}([-_][A-Za-z0-9]+)?$")
    returning: bool | None = Field(default=None, description="The snippet's own first/returning verdict.")
    consent: dict[str, str] = Field(default_factory=dict, description="The browser's choices per purpose.")

    @model_validator(mode="after")
    def _one_way(self) -> PersonalizeRequest:
        if (self.slot is None) == (self.slots is None):
            raise PydanticCustomError("slots", "give slot (one name) or slots (a list), not both")
        return self

    def page(self) -> PageRequest:
        """As the library takes it."""
        return PageRequest(
            slots=tuple(self.slots or [self.slot or ""]),
            anonymous_id=self.anonymous_id,
            user_id=self.user_id,
            returning=self.returning,
            product=self.product,
            lang=self.lang[:2].lower(),
            consent=self.consent,
        )


def _authorise(store: Store, cache: WriteKeyCache, request: Request, token: str | None) -> KeyInfo:
    header = request.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        return check_key(store, bearer.strip(), kind=KeyKind.SECRET, scope="profiles:read")
    token = (basic_user(header) if header else None) or token
    if not token:
        raise AuthenticationError("no write key: send it as writeKey, or as the HTTP Basic user name")
    info = cache.get(token)
    if info is None:
        info = check_key(store, token, kind=KeyKind.WRITE)
        cache.put(token, info)
    return info


def _answer(store: Store, settings: Settings, key: KeyInfo, ask: PersonalizeRequest) -> dict[str, Any]:
    if ask.user_id is not None and key.kind != KeyKind.SECRET.value:
        raise PermissionDeniedError(
            "userId needs a secret key with the profiles:read scope; browsers send anonymousId"
        )
    slots = load_slots(settings.web_slots_file)
    now = utcnow()
    with store.session() as session:
        answers = personalise(
            session, slots, ask.page(), now=now, settings=settings, models=models_dir(settings)
        )
        if session.info.pop(WROTE, False):
            with writing(store):
                session.commit()
    listed = [a.as_dict() for a in answers]
    return listed[0] if ask.slot is not None else {"slots": listed}


@router.post("/personalize", openapi_extra=request_body(PersonalizeRequest))
async def personalize_post(
    request: Request,
    store: StoreDep,
    body: BodyDep,
    cache: Annotated[WriteKeyCache, Depends(get_key_cache)],
) -> dict[str, Any]:
    """What each named slot shows this visitor: ``{slot, personalised, kind, content | items | popup,
    reason}`` for ``slot``, or ``{"slots": [...]}`` for ``slots``. Without personalisation consent:
    ``personalised: false`` and no content (the page keeps the slot's own HTML)."""
    token, decoded = key_in_body(body)
    ask = PersonalizeRequest.model_validate(decoded)
    settings: Settings = request.app.state.settings
    key = await run_in_threadpool(_authorise, store, cache, request, token)
    return await run_in_threadpool(_answer, store, settings, key, ask)


@router.get("/personalize")
async def personalize_get(
    request: Request,
    store: StoreDep,
    cache: Annotated[WriteKeyCache, Depends(get_key_cache)],
    slot: Annotated[list[str], Query(min_length=1, max_length=20)],
    anonymous_id: Annotated[str | None, Query(alias="anonymousId", max_length=128)] = None,
    user_id: Annotated[str | None, Query(alias="userId", max_length=128)] = None,
    product: Annotated[str | None, Query(max_length=128)] = None,
    lang: Annotated[str, Query(max_length=16)] = "ja",
    returning: bool | None = None,
    write_key: Annotated[str | None, Query(alias="writeKey")] = None,
) -> dict[str, Any]:
    """The same as the POST, with the slots as repeated ``slot`` parameters (one: a single answer)."""
    fields: dict[str, Any] = {"anonymousId": anonymous_id, "userId": user_id, "product": product}
    fields |= {"lang": lang, "returning": returning}
    fields |= {"slot": slot[0]} if len(slot) == 1 else {"slots": slot}
    ask = PersonalizeRequest.model_validate(fields)
    settings: Settings = request.app.state.settings
    key = await run_in_threadpool(_authorise, store, cache, request, write_key)
    return await run_in_threadpool(_answer, store, settings, key, ask)
