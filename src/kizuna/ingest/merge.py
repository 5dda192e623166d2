"""Merging two customer profiles of one person into one, keeping everything either held.

Every row that points at the merged customer (found from the foreign keys, see
:mod:`kizuna.store.references`) is moved to the survivor; the survivor's empty columns are filled from the
merged profile; the merged external id stays findable as an ``Identity(kind="user_id")``; and an
:class:`~kizuna.store.access.IdentityMerge` row records what was moved.

Where moving a row would break a unique key that includes the customer — the same person in one campaign
twice, the same coupon redeemed at the same instant twice — the survivor's row is kept and the merged one is
dropped; the audit row names the keys of what was dropped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from kizuna.errors import NotFoundError
from kizuna.store.access import IdentityMerge
from kizuna.store.references import CustomerReference, affected, customer_references
from kizuna.store.tables import Customer, Identity, table_of
from kizuna.store.types import utcnow

#: Identity kind under which a customer's earlier external ids (merged profiles, aliases) stay findable.
USER_ID = "user_id"

#: Columns a merge never copies: keys and bookkeeping.
_NOT_FILLED = {"id", "external_id", "attributes", "created_at", "updated_at"}


def merge_customers(session: Session, survivor_id: int, merged_id: int, *, reason: str) -> IdentityMerge:
    """Fold customer ``merged_id`` into ``survivor_id`` and return the audit row.

    Runs in the caller's transaction (nothing is committed). The merged customer no longer exists afterwards;
    objects loaded in ``session`` are expired so that they read the merged state.
    """
    if survivor_id == merged_id:
        raise ValueError(f"cannot merge customer {survivor_id} into itself")
    session.flush()
    customers = table_of(Customer)
    rows = {
        row.id: row._mapping
        for row in session.execute(select(customers).where(customers.c.id.in_([survivor_id, merged_id])))
    }
    for wanted in (survivor_id, merged_id):
        if wanted not in rows:
            raise NotFoundError(f"no customer #{wanted}: nothing was merged")
    survivor, merged = rows[survivor_id], rows[merged_id]

    moved: dict[str, Any] = {}
    dropped: dict[str, list[dict[str, Any]]] = {}
    for ref in customer_references():
        gone = _drop_clashes(session, ref, survivor_id, merged_id)
        if gone:
            dropped.setdefault(ref.name, []).extend(gone)
        # A bulk Core UPDATE, not the ORM: the consents table refuses ORM updates because a decision is never
        # edited. Re-pointing customer_id is no edit of a decision — purpose, status, source, policy version
        # and time stay as recorded — it says that the same person made it, so the history stays whole.
        n = affected(
            session, update(ref.table).where(ref.column == merged_id).values({ref.column.name: survivor_id})
        )
        if n:
            moved[ref.name] = moved.get(ref.name, 0) + n

    _keep_external_id(session, survivor_id, merged["external_id"])
    fills = {
        name: merged[name]
        for name in survivor
        if name not in _NOT_FILLED and survivor[name] is None and merged[name] is not None
    }
    fills["attributes"] = {**(merged["attributes"] or {}), **(survivor["attributes"] or {})}
    fills["created_at"] = min(survivor["created_at"], merged["created_at"])
    fills["updated_at"] = utcnow()
    session.execute(delete(customers).where(customers.c.id == merged_id))
    session.execute(update(customers).where(customers.c.id == survivor_id).values(fills))
    gone_object = session.identity_map.get(Session.identity_key(Customer, merged_id))
    if gone_object is not None:
        session.expunge(gone_object)
    session.expire_all()

    record = IdentityMerge(
        survivor_id=survivor_id,
        merged_customer_id=merged_id,
        merged_external_id=merged["external_id"],
        reason=reason,
        moved={
            "rows": moved,
            "dropped": dropped,
            "filled": sorted(k for k in fills if k not in ("attributes", "created_at", "updated_at")),
        },
        merged_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def _drop_clashes(
    session: Session, ref: CustomerReference, survivor_id: int, merged_id: int
) -> list[dict[str, Any]]:
    """Delete the merged customer's rows that would duplicate a survivor's row on a unique key."""
    dropped: list[dict[str, Any]] = []
    for key in ref.unique_keys:
        others = [ref.table.c[name] for name in key if name != ref.column.name]
        theirs = ref.table.alias("survivor_rows")
        if not others:
            # One row per customer (customer_values): the survivor's row stays, the merged one goes.
            single = and_(ref.column == merged_id, exists().where(theirs.c[ref.column.name] == survivor_id))
            if affected(session, delete(ref.table).where(single)):
                dropped.append({ref.column.name: merged_id})
            continue
        clash = and_(
            ref.column == merged_id,
            exists().where(
                theirs.c[ref.column.name] == survivor_id,
                *(theirs.c[c.name] == c for c in others),
            ),
        )
        for row in session.execute(select(*others).where(clash)):
            dropped.append({c.name: _plain(value) for c, value in zip(others, row, strict=True)})
        session.execute(delete(ref.table).where(clash))
    return dropped


def _keep_external_id(session: Session, customer_id: int, external_id: str) -> None:
    identities = table_of(Identity)
    now = utcnow()
    existing = session.execute(
        select(identities.c.id).where(identities.c.kind == USER_ID, identities.c.value == external_id)
    ).scalar()
    if existing is None:
        session.execute(
            insert(identities).values(
                customer_id=customer_id, kind=USER_ID, value=external_id, first_seen_at=now, last_seen_at=now
            )
        )
    else:
        session.execute(update(identities).where(identities.c.id == existing).values(customer_id=customer_id))


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
