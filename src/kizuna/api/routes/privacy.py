"""A data subject's requests, with a secret key holding the ``privacy`` scope: export, and deletion."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from kizuna.api.deps import PrivacyKey, StoreDep, writing
from kizuna.api.errors import ERROR_RESPONSES
from kizuna.api.routes.profiles import CUSTOMER_KEY, customer_for
from kizuna.api.schemas import DeletionPublic
from kizuna.privacy.erase import delete_customer
from kizuna.privacy.export import export_customer

router = APIRouter(prefix="/v1", tags=["privacy"], responses=ERROR_RESPONSES)


def _by(key: Any) -> str:
    return f"api key {key.prefix} ({key.name})"


@router.get("/customers/{customer}/export", summary="Export everything held about a customer")
def export(customer: str, key: PrivacyKey, store: StoreDep) -> dict[str, Any]:
    """Every row held about the customer, as JSON; the export is recorded in the privacy audit trail."""
    with writing(store), store.session() as session, session.begin():
        found = customer_for(session, customer)
        return export_customer(session, found.id, requested_by=_by(key))


@router.delete(
    "/customers/{customer}",
    summary="Delete or anonymise a customer",
    description=f"`customer`: {CUSTOMER_KEY}",
)
def delete(
    customer: str,
    key: PrivacyKey,
    store: StoreDep,
    mode: Annotated[
        Literal["delete", "anonymise"],
        Query(description="delete: remove every row; anonymise: keep orders for revenue, remove the person"),
    ] = "delete",
) -> DeletionPublic:
    """Remove the customer (or what identifies them) from every table, with an audit record."""
    with writing(store), store.session() as session, session.begin():
        found = customer_for(session, customer)
        record = delete_customer(session, found.id, mode=mode, requested_by=_by(key))
        return DeletionPublic(
            request_id=record.id,
            customer_id=record.customer_id,
            mode=mode,
            deleted=dict(record.details.get("deleted", {})),
            anonymised=dict(record.details.get("anonymised", {})),
            completed_at=record.completed_at,
        )
