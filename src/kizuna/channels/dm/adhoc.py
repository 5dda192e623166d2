"""Ad-hoc print batches for a segment: one ``direct_mail`` delivery per current member, written to the
outbox under the key ``dm:<batch>:<customer id>`` (no scenario), so a batch name never mails anyone twice.

Each new delivery's payload holds the layout name, the batch name, a unique coupon (``PREFIX-XXXXXXXX``,
recorded in ``coupons``) when a prefix is given, and recommendations from the trained ``default`` model
when there is one (see :func:`kizuna.scenarios.engine.recommendations.recommend_batch`, which also checks
personalisation consent). Consent for direct mail, the address and the frequency cap are checked when the
batch is rendered, like any other delivery's.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kizuna.errors import ConfigError
from kizuna.scenarios.definition import Recommend
from kizuna.scenarios.engine.recommendations import recommend_batch
from kizuna.store.automation import PENDING, Delivery
from kizuna.store.bulk import insert_ignore, insert_new, key_map
from kizuna.store.tables import Coupon, table_of

_PREFIX = re.compile(r"[A-Z0-9]{1,20}")
#: The scenario engine's coupon alphabet: no 0/O or 1/I, since codes are read off paper.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def batch_key(batch: str, customer_id: int) -> str:
    """The outbox key of a segment batch's delivery to one customer."""
    return f"dm:{batch}:{customer_id}"


def issue_coupons(
    session: Session, prefix: str, customer_ids: list[int], *, now: datetime, valid: timedelta, batch: str
) -> dict[int, str]:
    """A unique code ``PREFIX-XXXXXXXX`` per customer, written to ``coupons``; code per customer id."""
    if not _PREFIX.fullmatch(prefix):
        raise ConfigError(f"--coupon-prefix: expected 1-20 capital letters and digits, got {prefix!r}")
    conn = session.connection()
    issued: dict[int, str] = {}
    waiting = list(customer_ids)
    while waiting:
        codes = {
            cid: f"{prefix}-{''.join(secrets.choice(_CODE_ALPHABET) for _ in range(8))}" for cid in waiting
        }
        rows = [
            {"code": code, "campaign_id": None, "customer_id": cid, "description": f"direct mail {batch}",
             "valid_from": now, "valid_until": now + valid, "attributes": {"dm_batch": batch},
             "created_at": now}
            for cid, code in codes.items()
        ]  # fmt: skip
        insert_ignore(conn, table_of(Coupon), rows)
        owners = key_map(conn, Coupon.code, Coupon.customer_id, codes.values())
        issued |= {cid: code for cid, code in codes.items() if owners.get(code) == cid}
        waiting = [cid for cid in waiting if cid not in issued]  # a code drawn twice: draw again
    return issued


def write_segment_deliveries(
    session: Session,
    batch: str,
    customer_ids: list[int],
    *,
    template: str,
    now: datetime,
    coupon_prefix: str | None = None,
    coupon_valid: timedelta = timedelta(days=30),
    recommend: int = 3,
) -> int:
    """Write a pending delivery for each customer who has none in this batch yet; how many were new."""
    keys = {cid: batch_key(batch, cid) for cid in customer_ids}
    existing = set(key_map(session.connection(), Delivery.key, Delivery.id, keys.values()))
    new = [cid for cid in customer_ids if keys[cid] not in existing]
    if not new:
        return 0
    coupons = (
        issue_coupons(session, coupon_prefix, new, now=now, valid=coupon_valid, batch=batch)
        if coupon_prefix
        else {}
    )
    recommended = (
        recommend_batch(session, Recommend(algorithm="default", n=recommend), new, now) if recommend else {}
    )
    rows = []
    for cid in new:
        payload: dict[str, Any] = {"template": template, "batch": batch}
        if cid in coupons:
            payload["coupon"] = coupons[cid]
        if cid in recommended:
            payload["recommend"] = recommended[cid]
        rows.append(
            {"key": keys[cid], "scenario_id": None, "run_id": None, "step": None, "customer_id": cid,
             "channel": "direct_mail", "template": template, "arm": None, "payload": payload,
             "status": PENDING, "attempts": 0, "error": None, "created_at": now, "due_at": now,
             "sent_at": None}
        )  # fmt: skip
    return len(insert_new(session, table_of(Delivery), rows, "id"))
