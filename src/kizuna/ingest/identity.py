"""Identity stitching: from an anonymous visitor (a first-party cookie id) to a known customer, and one person
from several profiles.

The rules, as the tracking API's ``identify`` and ``alias`` calls apply them:

- A ``user_id`` is a customer's external id. An unknown one creates the customer; ids of profiles merged into
  another, or given by ``alias``, stay findable as identities of kind ``user_id``.
- An ``anonymous_id`` is one device or browser. ``identify`` links it to the customer as an identity of kind
  ``anonymous_id`` (a customer may have many) and re-points that device's earlier anonymous events to them.
  A device already linked to someone else follows the latest login; events already attributed stay put.
- An anonymous id alone never creates a customer: ``identify`` then only answers for devices already linked.
- Traits carrying an email that another customer has too mean one person with two profiles: they are merged
  (see :mod:`kizuna.ingest.merge`) into the one kizuna has known longest (the lowest id), and the traits of
  the latest ``identify`` are applied last. Anonymous traits are never used to link a device to a customer:
  anyone can type someone else's email into a form.

Everything runs in the caller's session and transaction; nothing is committed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from kizuna.ingest.merge import USER_ID, merge_customers
from kizuna.ingest.traits import Traits, split_traits
from kizuna.store.tables import Customer, Event, Identity, table_of
from kizuna.store.types import utcnow

__all__ = ["ALIAS", "ANONYMOUS_ID", "USER_ID", "alias", "identify", "merge_customers", "resolve"]

#: Identity kind of a device's anonymous id (the first-party cookie).
ANONYMOUS_ID = "anonymous_id"
#: Identity kind of an ``alias`` previous id that kizuna had never seen: it may have been either kind.
ALIAS = "alias"

_DEVICE_KINDS = (ANONYMOUS_ID, ALIAS)
_USER_KINDS = (USER_ID, ALIAS)
_MAX_ID = 128


#: First key of the advisory locks on devices (PostgreSQL), apart from the application's other locks.
_DEVICE_LOCKS = 0x6B7A_4476  # "kzDv"


def hold_devices(session: Session, anonymous_ids: Iterable[str]) -> None:
    """Lock the devices for this transaction (PostgreSQL; SQLite has one writer at a time anyway).

    A batch writing a device's anonymous events and a concurrent ``identify`` of the device then take turns:
    without it, events read as anonymous by one writer thread and committed after another thread had
    re-pointed the device's events to its customer stayed anonymous for good. Every batch locks the devices
    it names in one order (sorted keys), so two batches never wait for each other in a circle.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_device_key(a) for a in anonymous_ids})
    if keys:
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:space, k) "
                "FROM (SELECT unnest(CAST(:keys AS integer[])) AS k ORDER BY 1 OFFSET 0) AS ordered"
            ),
            {"space": _DEVICE_LOCKS, "keys": keys},
        )


def _device_key(anonymous_id: str) -> int:
    digest = hashlib.blake2b(anonymous_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def device_ids(session: Session, customer_id: int) -> list[str]:
    """The anonymous ids (devices, and aliases used as such) linked to a customer."""
    mine = Identity.customer_id == customer_id
    query = select(Identity.value).where(mine, Identity.kind.in_(_DEVICE_KINDS))
    return list(session.scalars(query))


def _check(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > _MAX_ID:
        raise ValueError(f"{name} is longer than {_MAX_ID} characters")
    return value


def _owner(session: Session, kinds: Iterable[str], value: str) -> int | None:
    found = session.scalar(
        select(Identity.customer_id)
        .where(Identity.kind.in_(list(kinds)), Identity.value == value, Identity.customer_id.is_not(None))
        .order_by(Identity.last_seen_at.desc(), Identity.id.desc())
        .limit(1)
    )
    return int(found) if found is not None else None


def _user(session: Session, user_id: str) -> int | None:
    found = session.scalar(select(Customer.id).where(Customer.external_id == user_id))
    if found is not None:
        return int(found)
    return _owner(session, _USER_KINDS, user_id)


def resolve(session: Session, *, user_id: str | None, anonymous_id: str | None) -> int | None:
    """The known customer for these ids, or None; creates nothing.

    A ``user_id`` decides when given (an unknown one gives None even if the device is linked to someone);
    otherwise the customer the ``anonymous_id`` is linked to.
    """
    user_id, anonymous_id = _check("user_id", user_id), _check("anonymous_id", anonymous_id)
    if user_id is not None:
        return _user(session, user_id)
    if anonymous_id is not None:
        return _owner(session, _DEVICE_KINDS, anonymous_id)
    raise ValueError("give a user_id, an anonymous_id or both")


def identify(
    session: Session,
    *,
    user_id: str | None,
    anonymous_id: str | None,
    traits: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int | None:
    """Recognise a person and record what they told about themselves; returns their customer id.

    With a ``user_id``: the customer with that external id (created if unknown), the device linked, its
    anonymous events re-pointed, same-email profiles merged, traits applied. With only an ``anonymous_id``:
    the customer the device is linked to (traits applied), or None when it is linked to nobody.
    """
    user_id, anonymous_id = _check("user_id", user_id), _check("anonymous_id", anonymous_id)
    if user_id is None and anonymous_id is None:
        raise ValueError("give a user_id, an anonymous_id or both")
    when = at or utcnow()
    sorted_traits = split_traits(traits or {})
    applied = False
    if user_id is not None:
        customer_id = _user(session, user_id)
        if customer_id is None:
            customer_id, applied = _create(session, user_id, when, sorted_traits), True
    else:
        assert anonymous_id is not None
        customer_id = _owner(session, _DEVICE_KINDS, anonymous_id)
        if customer_id is None:
            return None
    if anonymous_id is not None:
        _link(session, customer_id, ANONYMOUS_ID, anonymous_id, when)
    if sorted_traits.email is not None and user_id is not None:
        survivor = _merge_same_email(session, customer_id, sorted_traits.email)
        applied = applied and survivor == customer_id
        customer_id = survivor
    if not applied:
        _apply(session, customer_id, sorted_traits)
    return customer_id


def alias(session: Session, *, previous_id: str, user_id: str, at: datetime | None = None) -> int:
    """Say that ``previous_id`` (an anonymous id or an old user id) is the person ``user_id``.

    Afterwards both resolve to the returned customer: ``user_id``'s profile when known (a known
    ``previous_id`` profile is merged into it), else the ``previous_id`` profile, else a new customer.
    """
    previous, user = _check("previous_id", previous_id), _check("user_id", user_id)
    if previous is None or user is None:
        raise ValueError("alias needs both a previous_id and a user_id")
    when = at or utcnow()
    target = _user(session, user)
    earlier = _user(session, previous)
    if earlier is None:
        earlier = _owner(session, _DEVICE_KINDS, previous)
    if target is None and earlier is None:
        target = _create(session, user, when)
    elif target is None:
        assert earlier is not None
        target = earlier
        _link(session, target, USER_ID, user, when)
    elif earlier is not None and earlier != target:
        merge_customers(session, target, earlier, reason="alias")
    if earlier is None:
        _link(session, target, ALIAS, previous, when)
    else:
        _repoint_events(session, previous, target)
    return target


def _create(session: Session, user_id: str, when: datetime, traits: Traits | None = None) -> int:
    customer = Customer(external_id=user_id, attributes={}, created_at=when, updated_at=when)
    if traits is not None:
        for column, value in traits.columns.items():
            setattr(customer, column, value)
        customer.attributes = dict(traits.attributes)
    session.add(customer)
    session.flush()
    return customer.id


def _link(session: Session, customer_id: int, kind: str, value: str, when: datetime) -> None:
    identity = session.scalars(select(Identity).where(Identity.kind == kind, Identity.value == value)).first()
    if identity is None:
        session.add(
            Identity(customer_id=customer_id, kind=kind, value=value, first_seen_at=when, last_seen_at=when)
        )
    else:
        identity.customer_id = customer_id
        identity.first_seen_at = min(identity.first_seen_at, when)
        identity.last_seen_at = max(identity.last_seen_at, when)
    session.flush()
    if kind in _DEVICE_KINDS:
        _repoint_events(session, value, customer_id)


def _repoint_events(session: Session, anonymous_id: str, customer_id: int) -> None:
    """Give the device's events that belong to nobody yet to this customer."""
    events = table_of(Event)
    session.execute(
        update(events)
        .where(events.c.customer_id.is_(None), events.c.anonymous_id == anonymous_id)
        .values(customer_id=customer_id)
    )


def _merge_same_email(session: Session, customer_id: int, email: str) -> int:
    others = session.scalars(
        select(Customer.id).where(func.lower(Customer.email) == email.lower(), Customer.id != customer_id)
    ).all()
    if not others:
        return customer_id
    everyone = sorted({customer_id, *others})
    survivor = everyone[0]
    for merged in everyone[1:]:
        merge_customers(session, survivor, merged, reason="email")
    return survivor


def _apply(session: Session, customer_id: int, traits: Traits) -> None:
    if not traits.columns and not traits.attributes:
        return
    customer = session.get(Customer, customer_id)
    assert customer is not None
    for column, value in traits.columns.items():
        setattr(customer, column, value)
    if traits.attributes:
        customer.attributes = {**(customer.attributes or {}), **traits.attributes}
    session.flush()
