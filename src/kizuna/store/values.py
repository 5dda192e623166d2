"""What each customer is worth: RFM scores and segment, and predicted lifetime value (``customer_values``).

One row per customer, rewritten by ``kizuna value compute`` (migration 0007). The customer id is the key and
carries no foreign key, like ``segment_members``: a million rows are rewritten at once, and PostgreSQL checks
a foreign key row by row. It is marked as a customer reference, so merging, export and deletion treat it like
every other column that points at a customer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kizuna.store.tables import Base
from kizuna.store.types import CUSTOMER_REFERENCE, BigId, UTCDateTime


class CustomerValue(Base):
    """A customer's RFM scores (1-5), RFM segment, and BG/NBD + Gamma-Gamma predictions over a horizon."""

    __tablename__ = "customer_values"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, info={CUSTOMER_REFERENCE: True})
    r_score: Mapped[int] = mapped_column(Integer)
    f_score: Mapped[int] = mapped_column(Integer)
    m_score: Mapped[int] = mapped_column(Integer)
    rfm_segment: Mapped[str] = mapped_column(String(32))
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases: Mapped[float | None] = mapped_column(Float)
    expected_value: Mapped[float | None] = mapped_column(Float)
    ltv: Mapped[float | None] = mapped_column(Float)
    horizon_days: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str] = mapped_column(String(200))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


Index("ix_customer_values_rfm_segment", CustomerValue.rfm_segment)
Index("ix_customer_values_ltv", CustomerValue.ltv)
