"""Conditions on who customers are and what they allow: attributes and consent, as sets of customer ids.

An attribute is a column of ``customers`` by its name (``prefecture``, ``gender``, ``birth_date``,
``created_at`` ...) or a key of the ``attributes`` JSON (``member_rank``, or ``attributes.member_rank`` to
be explicit when a key shares a column's name). Consent follows :func:`kizuna.privacy.consent.may`: the
latest decision per purpose wins (latest ``recorded_at``, then highest id), and customers who never decided
get the purpose's default from ``Settings.consent_defaults``.
"""

from __future__ import annotations

from sqlalchemy import Date, Integer, String, and_, exists, or_, select
from sqlalchemy.orm import aliased

from kizuna.errors import ConfigError
from kizuna.privacy.consent import Status, default_allows
from kizuna.segments.compare import ColumnKind, column_test, json_test
from kizuna.segments.conditions import AttributeCondition, ConsentCondition
from kizuna.segments.sets import ID, Members, Scope
from kizuna.store.tables import Consent, Customer, table_of
from kizuna.store.types import UTCDateTime

JSON_PREFIX = "attributes."


def _column_kinds() -> dict[str, ColumnKind]:
    kinds: dict[str, ColumnKind] = {}
    for column in table_of(Customer).columns:
        if column.name == "attributes":
            continue
        if isinstance(column.type, UTCDateTime):
            kinds[column.name] = "datetime"
        elif isinstance(column.type, Date):
            kinds[column.name] = "date"
        elif isinstance(column.type, String):
            kinds[column.name] = "text"
        elif isinstance(column.type, Integer):
            kinds[column.name] = "number"
    return kinds


#: The customer columns an attribute condition may name, with the kind of value each holds.
CUSTOMER_COLUMNS: dict[str, ColumnKind] = _column_kinds()


def attribute_members(condition: AttributeCondition, scope: Scope, place: str) -> Members:
    """Customers whose column or JSON attribute passes the comparison."""
    name = condition.attribute
    ops = condition.operators()
    if name.startswith(JSON_PREFIX) or name not in CUSTOMER_COLUMNS:
        key = name.removeprefix(JSON_PREFIX)
        if not key:
            raise ConfigError(f"{place}: name the key, as in attributes.member_rank")
        test = json_test(Customer.attributes, key, ops, place)
    else:
        test = column_test(table_of(Customer).c[name], CUSTOMER_COLUMNS[name], ops, place)
    return Members(select(Customer.id.label(ID)).where(test, *scope.restrict(Customer.id)))


def consent_members(condition: ConsentCondition, scope: Scope) -> Members:
    """Customers who may be approached for the purpose at the scope's moment: a latest decision (recorded up
    to then, as :func:`kizuna.privacy.consent.may` reads it) of ``granted``, or no decision and an opt-out
    purpose."""
    purpose = condition.consent.value
    later = aliased(Consent)
    superseded = exists().where(
        later.customer_id == Consent.customer_id,
        later.purpose == Consent.purpose,
        later.recorded_at <= scope.now,
        or_(
            later.recorded_at > Consent.recorded_at,
            and_(later.recorded_at == Consent.recorded_at, later.id > Consent.id),
        ),
    )
    allowed_by_default = default_allows(purpose)
    granted = Consent.status == Status.GRANTED.value
    latest = select(Consent.customer_id.label(ID)).where(
        Consent.purpose == purpose,
        Consent.recorded_at <= scope.now,
        granted if not allowed_by_default else ~granted,
        ~superseded,
        *scope.restrict(Consent.customer_id),
    )
    # Opt-out purposes: everyone but those whose latest decision refuses.
    return Members(latest, negated=allowed_by_default)
