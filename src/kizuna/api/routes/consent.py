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
from kizuna.privacy.visitors import record_visitor_consent
from kizuna.store.types import utcnow

router = APIRouter(prefix="/v1", tags=["consent"], responses=ERROR_RESPONSES)


@router.post("/consent", openapi_extra=request_body(ConsentRequest))
def consent(tracking: WriteKeyDep, store: StoreDep) -> ConsentAnswer:
    """Record a visitor's consent decisions (``{"purposes": {"tracking": "granted", "email": false}}``).

    Decisions are recorded, with their source and policy version, for a visitor kizuna knows (by userId, or
    by an anonymousId already linked to a customer) and counted in ``recorded``. For a visitor it does not
    know, ``known`` is false and ``recorded`` 0: the choices are kept against the anonymousId only (for web
    personalisation and cookie audiences, see :mod:`kizuna.privacy.visitors`), and the snippet sends them
    again after ``identify`` to record them for the customer.
    """
    body = tracking.decoded if tracking.decoded is not None else tracking.body
    if isinstance(body, bytes):
        request = ConsentRequest.model_validate_json(body)
    else:
        request = ConsentRequest.model_validate(body)
    at = aware(request.timestamp) if request.timestamp is not None else utcnow()
    with writing(store), store.session() as session, session.begin():
        customer_id = resolve(session, user_id=request.user_id, anonymous_id=request.anonymous_id)
        decisions = {
            purpose.value: (Status.GRANTED if d else Status.DENIED) if isinstance(d, bool) else d
            for purpose, d in request.purposes.items()
        }
        if customer_id is None:
            if request.anonymous_id is not None and request.user_id is None:
                record_visitor_consent(
                    session,
                    request.anonymous_id,
                    decisions,
                    source=request.source,
                    policy_version=request.policy_version,
                    at=at,
                )
            return ConsentAnswer(known=False, recorded=0)
        for purpose, decision in decisions.items():
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
