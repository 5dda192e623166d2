"""Responses to deliveries: one row per response, first-only counting, and one-click unsubscribe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from outbox_seed import T0, customer, delivery, get, scenario
from sqlalchemy import select

from kizuna.channels.responses import (
    UNSUBSCRIBE_SOURCE,
    count_responses,
    record_response,
    unsubscribe,
    user_agent_family,
)
from kizuna.errors import NotFoundError
from kizuna.privacy.consent import may
from kizuna.store import Store
from kizuna.store.automation import Response
from kizuna.store.tables import Consent


def test_each_response_is_a_row_and_first_only_counts_deliveries(store: Store) -> None:
    who = customer(store)
    flow = scenario(store)
    first, second = delivery(store, who, scenario_id=flow), delivery(store, who, scenario_id=flow)
    key = get(store, first).key
    with store.session() as s, s.begin():
        for minutes in (5, 30, 90):  # opened three times, twice by key and once by id
            target: str | int = key if minutes != 30 else first
            record_response(s, target, "open", at=T0 + timedelta(minutes=minutes))
        record_response(s, second, "open", at=T0, details={"user_agent": "Chrome"})
        record_response(s, second, "click", at=T0, details={"url": "https://shop.example.jp/p/1"})
    with store.session() as s:
        rows = s.scalars(select(Response).where(Response.delivery_id == first).order_by(Response.id)).all()
        assert [r.occurred_at for r in rows] == [T0 + timedelta(minutes=m) for m in (5, 30, 90)]
        assert {(r.customer_id, r.scenario_id, r.step, r.arm) for r in rows} == {(who, flow, "send", "a")}
        assert count_responses(s, "open") == 4
        assert count_responses(s, "open", first_only=True) == 2
        assert count_responses(s, "open", delivery=first) == 3
        assert count_responses(s, "open", delivery=first, first_only=True) == 1
        assert count_responses(s, "click", scenario_id=flow, arm="a") == 1
        assert count_responses(s, "click", scenario_id=flow + 1) == 0
        clicked = s.scalars(select(Response).where(Response.kind == "click")).one()
        assert clicked.details == {"url": "https://shop.example.jp/p/1"}


def test_unknown_kinds_and_deliveries_are_refused(store: Store) -> None:
    sent = delivery(store, customer(store))
    with store.session() as s:
        with pytest.raises(ValueError, match="bounce"):
            record_response(s, sent, "bounce", at=T0)
        with pytest.raises(NotFoundError, match="no delivery 'nope'"):
            record_response(s, "nope", "open", at=T0)
        with pytest.raises(NotFoundError):
            record_response(s, sent + 1000, "open", at=T0)


def test_unsubscribe_withdraws_email_once(store: Store) -> None:
    who = customer(store)
    key = get(store, delivery(store, who, channel="email")).key
    at = T0 + timedelta(hours=1)
    with store.session() as s, s.begin():
        assert may(s, who, "email", at=at)
        assert unsubscribe(s, key, at=at) is True
        assert unsubscribe(s, key, at=at + timedelta(minutes=1)) is False
    with store.session() as s:
        assert not may(s, who, "email", at=at)
        assert may(s, who, "direct_mail", at=at)  # only email is withdrawn
        history = s.scalars(select(Consent).where(Consent.customer_id == who, Consent.purpose == "email"))
        assert [(c.status, c.source) for c in history] == [
            ("granted", None),
            ("withdrawn", UNSUBSCRIBE_SOURCE),
        ]
        assert count_responses(s, "unsubscribe") == 1


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", "Chrome"),
        ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0", "Edge"),
        ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
         "Gmail image proxy"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)",
         "Apple Mail"),
        ("curl/8.0", "other"),
        (None, "other"),
    ],
)  # fmt: skip
def test_user_agent_family(agent: str | None, family: str) -> None:
    assert user_agent_family(agent) == family
