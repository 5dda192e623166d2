"""Erasure: removing a customer, or what identifies them, from every table — with a record that it was done.

Two modes:

``delete``
    The customer and every row that points at them (found from the foreign keys, see
    :mod:`kizuna.store.references`) are deleted, with the rows that hang off those (order lines, coupon
    products). Revenue figures drop by their orders.
``anonymise``
    The person goes, their purchases stay for revenue figures: the profile keeps its id under a random
    ``deleted-…`` external id, with name, kana, email, phone, address, birth date, gender and attributes
    cleared;
    identities are deleted; events lose their anonymous id and context (IP address, user agent, device, page)
    and identify/alias/group events their traits; page URLs lose their query; order attributes (which may hold
    shipping details) are cleared; a ``withdrawn`` decision is appended for every purpose (source
    ``erasure``). Orders and lines,
    interactions, campaign memberships, coupons and redemptions stay, attached to the pseudonymous profile.
    Any other table pointing at customers is deleted from.

In both modes the device's events that were never attributed to anyone are deleted, and so are the consent
decisions its browsers reported before the customer was known (``visitor_consents``). The audit rows of
profiles merged into this one keep only a hash of the merged external id (anonymised: not even that, and
earlier privacy requests lose their link to the profile). The deletion is recorded as a
:class:`~kizuna.store.access.PrivacyRequest` whose ``subject_hash`` is the SHA-256 of the external id; it
holds counts, never personal data, and for an anonymised profile no customer id.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from kizuna.errors import NotFoundError
from kizuna.ingest.identity import device_ids
from kizuna.privacy.consent import Purpose, Status, record_consent
from kizuna.privacy.export import merges_into, subject_hash
from kizuna.store.access import PrivacyRequest
from kizuna.store.engine import Store
from kizuna.store.references import CustomerReference, affected, customer_references
from kizuna.store.tables import Base, Customer, Event, Order, table_of
from kizuna.store.types import utcnow
from kizuna.store.visitors import VisitorConsent

Mode = Literal["delete", "anonymise"]

#: How an anonymised profile's external id starts (the rest is random): channels suppress such profiles.
ANONYMISED_PREFIX = "deleted-"

#: Tables whose rows anonymising keeps (on the pseudonymous profile); other tables' rows about them go.
#: Scenario runs, deliveries and responses stay with campaign members: arms, control groups, what was sent and
#: how it was answered are what uplift is measured from. Segment stays go (a profile, not a fact).
KEPT_WHEN_ANONYMISED = frozenset(
    {
        "orders",
        "events",
        "interactions",
        "consents",
        "campaign_members",
        "coupons",
        "coupon_redemptions",
        "scenario_runs",
        "deliveries",
        "responses",
    }
)
#: Customer columns that anonymising clears.
CLEARED_COLUMNS = (
    "name",
    "name_kana",
    "email",
    "phone",
    "postal_code",
    "country",
    "prefecture",
    "city",
    "address_line1",
    "address_line2",
    "birth_date",
    "gender",
)
#: What an anonymised profile's merge audit rows keep instead of the merged external id.
ERASED = "erased"
_TRAIT_EVENTS = ("identify", "alias", "group")
_PAGE_EVENTS = ("page", "screen")


def delete_customer(
    session: Session,
    customer_id: int,
    *,
    mode: Mode = "delete",
    requested_by: str | None = None,
) -> PrivacyRequest:
    """Delete or anonymise ``customer_id`` everywhere and return the ``deletion`` audit row.

    Runs in the caller's transaction (commit to make it stick, or use :func:`delete_customer_in_store`).
    """
    if mode not in ("delete", "anonymise"):
        raise ValueError(f"unknown mode {mode!r}: use 'delete' or 'anonymise'")
    session.flush()
    external_id = session.scalar(select(Customer.external_id).where(Customer.id == customer_id))
    if external_id is None:
        raise NotFoundError(f"no customer #{customer_id}: nothing was deleted")
    deleted: dict[str, int] = {}
    anonymised: dict[str, int] = {}

    devices = device_ids(session, customer_id)
    if devices:
        events = table_of(Event)
        gone = affected(
            session, delete(events).where(events.c.customer_id.is_(None), events.c.anonymous_id.in_(devices))
        )
        _count(deleted, "events", gone)
        decisions = table_of(VisitorConsent)
        gone = affected(session, delete(decisions).where(decisions.c.anonymous_id.in_(devices)))
        _count(deleted, "visitor_consents", gone)
    _scrub_audit(session, customer_id, mode, anonymised)

    withdrawn: list[str] = []
    if mode == "delete":
        for ref in reversed(customer_references()):
            _delete_rows(session, ref, customer_id, deleted)
        customers = table_of(Customer)
        gone = affected(session, delete(customers).where(customers.c.id == customer_id))
        _count(deleted, "customers", gone)
    else:
        _anonymise(session, customer_id, deleted, anonymised)
        withdrawn = _withdraw_everything(session, customer_id)
    gone_object = session.identity_map.get(Session.identity_key(Customer, customer_id))
    if gone_object is not None and mode == "delete":
        session.expunge(gone_object)
    session.expire_all()

    now = utcnow()
    record = PrivacyRequest(
        kind="deletion",
        # An anonymised profile lives on: linking it to the hash of the (often guessable) external id would
        # undo the anonymisation, so its deletion record names no customer id.
        customer_id=customer_id if mode == "delete" else None,
        subject_hash=subject_hash(external_id),
        requested_by=requested_by,
        status="done",
        details={"mode": mode, "deleted": deleted, "anonymised": anonymised, "withdrawn": withdrawn},
        requested_at=now,
        completed_at=now,
    )
    session.add(record)
    session.flush()
    return record


def delete_customer_in_store(
    store: Store, customer_id: int, *, mode: Mode = "delete", requested_by: str | None = None
) -> PrivacyRequest:
    """:func:`delete_customer` in a transaction of its own, committed."""
    with store.session() as session:
        record = delete_customer(session, customer_id, mode=mode, requested_by=requested_by)
        session.commit()
    return record


def _count(counts: dict[str, int], table: str, n: int) -> None:
    if n:
        counts[table] = counts.get(table, 0) + n


def _dependents(table: Table) -> list[tuple[Table, Any, str | None]]:
    """Tables with a foreign key to ``table``: (table, column, ON DELETE action)."""
    found = []
    for other in Base.metadata.sorted_tables:
        for column in other.columns:
            for fk in column.foreign_keys:
                if fk.column.table is table:
                    found.append((other, column, fk.ondelete))
    return found


def _delete_rows(session: Session, ref: CustomerReference, customer_id: int, deleted: dict[str, int]) -> None:
    """Delete ``ref``'s rows for the customer, and the rows hanging off them (or unlink them: SET NULL)."""
    if "id" in ref.table.c:
        mine = select(ref.table.c.id).where(ref.column == customer_id)
        for child, column, ondelete in _dependents(ref.table):
            if (ondelete or "").upper() == "SET NULL":
                session.execute(update(child).where(column.in_(mine)).values({column.name: None}))
            else:
                _count(deleted, child.name, affected(session, delete(child).where(column.in_(mine))))
    _count(deleted, ref.name, affected(session, delete(ref.table).where(ref.column == customer_id)))


def _anonymise(
    session: Session, customer_id: int, deleted: dict[str, int], anonymised: dict[str, int]
) -> None:
    for ref in reversed(customer_references()):
        if ref.name not in KEPT_WHEN_ANONYMISED:
            _delete_rows(session, ref, customer_id, deleted)
    customers = table_of(Customer)
    cleared: dict[str, Any] = dict.fromkeys(CLEARED_COLUMNS)
    cleared |= {
        "external_id": f"{ANONYMISED_PREFIX}{secrets.token_hex(12)}",
        "attributes": {},
        "updated_at": utcnow(),
    }
    session.execute(update(customers).where(customers.c.id == customer_id).values(cleared))
    anonymised["customers"] = 1

    events = table_of(Event)
    mine = events.c.customer_id == customer_id
    n = affected(session, update(events).where(mine).values(anonymous_id=None, context={}))
    _count(anonymised, "events", n)
    session.execute(update(events).where(mine, events.c.type.in_(_TRAIT_EVENTS)).values(properties={}))
    pages = session.execute(
        select(events.c.id, events.c.properties).where(mine, events.c.type.in_(_PAGE_EVENTS))
    ).all()
    changed = [
        {"event_id": event_id, "cleaned": cleaned}
        for event_id, properties in pages
        if (cleaned := _clean_page(properties or {})) != properties
    ]
    if changed:
        by_id = events.c.id == bindparam("event_id")
        session.execute(update(events).where(by_id).values(properties=bindparam("cleaned")), changed)

    orders = table_of(Order)
    n = affected(session, update(orders).where(orders.c.customer_id == customer_id).values(attributes={}))
    _count(anonymised, "orders", n)


def _withdraw_everything(session: Session, customer_id: int) -> list[str]:
    """Record that the customer withdrew every purpose: nothing may use the pseudonymous profile again."""
    at = utcnow()
    for purpose in Purpose:
        record_consent(session, customer_id, purpose, Status.WITHDRAWN, source="erasure", at=at)
    return [p.value for p in Purpose]


def _scrub_audit(session: Session, customer_id: int, mode: Mode, anonymised: dict[str, int]) -> None:
    """Leave no identifier in the audit rows that leads back to the person.

    Merges into a deleted customer keep a hash of the merged external id; for an anonymised one, whose
    profile lives on, even the hash would lead back, so it is replaced, and earlier requests lose the link.
    """
    scrubbed = 0
    for merge in merges_into(session, customer_id):
        if mode == "anonymise":
            new = ERASED
        elif merge.merged_external_id.startswith("sha256:") or merge.merged_external_id == ERASED:
            continue
        else:
            new = "sha256:" + subject_hash(merge.merged_external_id)
        if new != merge.merged_external_id:
            merge.merged_external_id = new
            scrubbed += 1
    session.flush()
    _count(anonymised, "identity_merges", scrubbed)
    if mode == "anonymise":
        requests = table_of(PrivacyRequest)
        unlinked = affected(
            session, update(requests).where(requests.c.customer_id == customer_id).values(customer_id=None)
        )
        _count(anonymised, "privacy_requests", unlinked)


def _clean_page(properties: dict[str, Any]) -> dict[str, Any]:
    """Page properties without what may carry personal data: the query string, search terms, the referrer."""
    cleaned = {k: x for k, x in properties.items() if k not in ("search", "referrer")}
    url = cleaned.get("url")
    if isinstance(url, str):
        parts = urlsplit(url)
        cleaned["url"] = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return cleaned
