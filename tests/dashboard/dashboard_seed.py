"""A small but complete store for the dashboard's tests: demo customers with orders, events and consents,
two segments, two scenarios that have run once (deliveries in the outbox), a response, and three users."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select

from kizuna.dashboard.users import create_user
from kizuna.ingest.demo import generate_demo_store
from kizuna.scenarios.builtin import add_from_template
from kizuna.scenarios.engine.worker import run_once
from kizuna.segments.membership import rebuild
from kizuna.store import Store
from kizuna.store.automation import Delivery, Response, Scenario
from kizuna.store.tables import Customer
from kizuna.store.types import utcnow

PASSWORD = "correct horse battery"
USERS = {"admin": "admin@example.jp", "marketer": "marketer@example.jp", "viewer": "viewer@example.jp"}


@dataclass(frozen=True)
class Seeded:
    """What the seeded store holds that tests refer to."""

    store: Store
    customer_id: int
    external_id: str
    scenario: str


def seed(store: Store, customers: int = 60) -> Seeded:
    """Fill ``store`` (an empty, migrated one)."""
    generate_demo_store(store, customers=customers, seed=3, as_of=date.today())
    add_from_template(store, "first-order-coupon")
    add_from_template(store, "lapsed-sale-dm")
    rebuild(store, now=utcnow())
    run_once(store)
    with store.session() as session, session.begin():
        for role, email in USERS.items():
            create_user(session, email, PASSWORD, role=role, display_name=f"{role} user")
        delivery = session.scalars(select(Delivery).order_by(Delivery.id).limit(1)).first()
        assert delivery is not None, "the seeded scenarios wrote no delivery"
        session.add(
            Response(
                delivery_id=delivery.id,
                customer_id=delivery.customer_id,
                scenario_id=delivery.scenario_id,
                step=delivery.step,
                arm=delivery.arm,
                kind="scan",
                occurred_at=utcnow(),
                details={},
            )
        )
        customer = session.get(Customer, delivery.customer_id)
        scenario = session.get(Scenario, delivery.scenario_id)
        assert customer is not None and scenario is not None
        return Seeded(store, customer.id, customer.external_id, scenario.name)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    """Sign ``client`` in through the form, as a browser does."""
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client
