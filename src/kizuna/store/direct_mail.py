"""Print batches of paper direct mail (``dm_batches``), owned by migration 0008.

A batch is one run of ``kizuna dm render``: the files it wrote, how many pieces, pages and suppressed
customers, and its way to the printer: ``rendered`` → ``approved`` (by whom, when) → ``printed``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kizuna.store.tables import Base
from kizuna.store.types import BigId, UTCDateTime, utcnow

#: A batch's states, in order.
RENDERED, APPROVED, PRINTED = "rendered", "approved", "printed"


class DmBatch(Base):
    """One print batch: from a scenario's outbox rows or a segment's members, in one layout and size."""

    __tablename__ = "dm_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    scenario_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("scenarios.id", ondelete="SET NULL"), nullable=True
    )
    segment: Mapped[str | None] = mapped_column(String(100))
    template: Mapped[str] = mapped_column(String(100))
    size: Mapped[str] = mapped_column(String(64))
    out_dir: Mapped[str] = mapped_column(String(1000))
    pieces: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=RENDERED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(200))
