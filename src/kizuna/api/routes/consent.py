"""``/v1/consent``: the snippet (or a site's consent banner) reports a visitor's choices (write key)."""

from __future__ import annotations

from fastapi import APIRouter

from kizuna.api.deps import StoreDep, WriteKeyDep, writing
from kizuna.api.errors import ERROR_RESPONSES
from kizuna.api.routes.tracking import request_body
from kizuna.api.schemas import ConsentAnswer, ConsentRequest
from kizuna.ingest.identity import resolve
from kizuna.ingest.segment import aware
from kizuna.privacy.consent import Status, record_consent
from kizuna.store.types import utcnow

router = APIRouter(prefix="/v1", tags=["consent"], responses=ERROR_RESPONSES)


@router.post("/consent", openapi_extra=request_body(ConsentRequest))
def consent(tracking: WriteKeyDep, store: StoreDep) -> ConsentAnswer:
    """Record a visitor's consent decisions (``{"purposes": {"tracking": "granted", "email": false}}``).

    Decisions are recorded, with their source and policy version, for a visitor kizuna knows (by userId, or
    by an anonymousId already linked to a customer); otherwise nothing is stored and ``known`` is false: the
    snippet keeps the choice in the browser and sends it again after ``identify``.
    """
    body = tracking.decoded if tracking.decoded is not None else tracking.body
    if isinstance(body, bytes):
        request = ConsentRequest.model_validate_json(body)
    else:
        request = ConsentRequest.model_validate(body)
    at = aware(request.timestamp) if request.timestamp is not None else utcnow()
    with writing(store), store.session() as session, session.begin():
        customer_id = resolve(session, user_id=request.user_id, anonymous_id=request.anonymous_id)
        if customer_id is None:
            return ConsentAnswer(known=False, recorded=0)
        for purpose, decision in request.purposes.items():
            if isinstance(decision, bool):
                decision = Status.GRANTED if decision else Status.DENIED
            record_consent(
                session,
                customer_id,
                purpose,
                decision,
                source=request.source,
                policy_version=request.policy_version,
                at=at,
            )
    return ConsentAnswer(known=True, recorded=len(request.purposes))
