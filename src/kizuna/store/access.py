"""Access and accountability tables: API keys, and the audit trail of identity merges and privacy requests.

Kept apart from the customer data in ``tables.py``; they share its ``Base`` and are owned by migration 0003.
None of these rows holds personal data in clear: keys are stored as hashes, and the audit rows of a deleted
customer keep only a hash of the external id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from kizuna.store.tables import Base
from kizuna.store.types import BigId, JSONDict, UTCDateTime, utcnow


class ApiKey(Base):
    """An API key. Only ``prefix`` (public, for lookup) and the SHA-256 of the whole token are stored.

    ``kind`` is ``write`` (public, ingest only, per ``source``) or ``secret`` (server side, with ``scopes``).
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(128))
    scopes: Mapped[list[str]] = mapped_column(JSONDict, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityMerge(Base):
    """One merge of two customer profiles: ``merged_customer_id`` was folded into ``survivor_id``.

    Ids are plain numbers, not foreign keys, so the audit row outlives either profile.
    """

    __tablename__ = "identity_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survivor_id: Mapped[int] = mapped_column(BigInteger, index=True)
    merged_customer_id: Mapped[int] = mapped_column(BigInteger)
    merged_external_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(64))
    moved: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrivacyRequest(Base):
    """An export or deletion carried out for a data subject, kept as evidence that it was done.

    ``subject_hash`` is the SHA-256 of the external id, so a deletion's record holds no personal data.
    """

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="done")
    details: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
