"""A print batch for the dashboard's tests, rendered by the library: three mailable customers (valid
addresses, direct mail granted) given a pending direct mail delivery in a seeded scenario, then
``render_scenario`` into a folder of the test's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from kizuna.channels.dm.render import BatchReport, render_scenario
from kizuna.config import Settings
from kizuna.privacy.consent import record_consent
from kizuna.store import Store
from kizuna.store.automation import Delivery, Scenario
from kizuna.store.tables import Customer
from kizuna.store.types import utcnow

BATCH = "spring-postcards"


def link_settings(data_dir: Path) -> Settings:
    """Settings that let QR codes carry tracked links, rendering in this process."""
    return Settings(  # type: ignore[call-arg]
        data_dir=data_dir,
        public_base_url="https://kizuna.example.jp",
        link_secret="a-secret-for-links-on-paper",
        dm_workers=1,
        dashboard_cache_seconds=0,
    )


def render_batch(store: Store, scenario: str, folder: Path, settings: Settings) -> BatchReport:
    """Write three mailable customers and their deliveries in ``scenario``; render them as :data:`BATCH`."""
    now = utcnow()
    with store.session() as session, session.begin():
        scenario_id = session.scalars(select(Scenario.id).where(Scenario.name == scenario)).one()
        for n in range(1, 4):
            customer = Customer(
                external_id=f"dm-dash-{n}", name=f"山田 花子{n}", postal_code="100-0001", country="JP",
                prefecture="東京都", city="千代田区", address_line1=f"千代田{n}-1", attributes={},
            )  # fmt: skip
            session.add(customer)
            session.flush()
            record_consent(
                session, customer.id, "direct_mail", "granted", at=datetime(2026, 1, 1, tzinfo=UTC)
            )
            session.add(
                Delivery(
                    key=f"{scenario_id}:dm-dash:{customer.id}:once", scenario_id=scenario_id, step="dm",
                    customer_id=customer.id, channel="direct_mail", template="postcard", arm=None,
                    payload={"coupon": f"SPRING-{n:04d}"}, status="pending", created_at=now,
                    due_at=now - timedelta(minutes=1),
                )
            )  # fmt: skip
    report = render_scenario(store, scenario, folder / BATCH, name=BATCH, now=now, settings=settings)
    assert report.pieces >= 3, report
    return report
