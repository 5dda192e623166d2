"""The dashboard's users, and the indexes its pages read through.

Owned by migration 0010. Users sign in to the dashboard with a password (stored as a scrypt hash, see
:mod:`kizuna.dashboard.users`); API keys stay apart in ``api_keys``. The extra indexes keep every dashboard
page bounded on a large store: deliveries per day and per scenario, and the latest consent decisions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kizuna.store.automation import Delivery
from kizuna.store.tables import Base, Consent
from kizuna.store.types import BigId, UTCDateTime, utcnow

#: Roles, from most to least powerful: admins also manage privacy requests; viewers change nothing.
ROLES = ("admin", "marketer", "viewer")


class DashboardUser(Base):
    """A person who signs in to the dashboard: login (an email), role, language and password hash."""

    __tablename__ = "dashboard_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="marketer")
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


Index("ix_deliveries_created_at", Delivery.created_at)
Index("ix_deliveries_scenario_id_step_status", Delivery.scenario_id, Delivery.step, Delivery.status)
Index("ix_consents_recorded_at", Consent.recorded_at)
