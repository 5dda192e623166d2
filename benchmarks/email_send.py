"""How many emails a minute the dispatcher sends to a local SMTP server, templates, tracking and all.

An aiosmtpd server on 127.0.0.1 counts and discards every message. N customers (default 3,000) who granted
email consent get one pending email delivery each (template ``cart-reminder``, a coupon and three
recommended items, so every message carries tracked links and the open pixel), written into a fresh store:
a SQLite file in a scratch folder, or the PostgreSQL database given by ``--db`` (its tables are emptied
first). Then the real dispatcher (``kizuna.channels.dispatch.dispatch``, default batch size) runs until every
delivery is sent. Target: ≥ 1,000 messages/min.

    .venv/bin/python benchmarks/email_send.py                                  # SQLite, 3,000 messages
    .venv/bin/python benchmarks/email_send.py --messages 10000
    .venv/bin/python benchmarks/email_send.py --db postgresql+psycopg://USER@HOST/DB   # emptied first!
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import func, insert, select, text

from kizuna.channels.dispatch import DispatchReport, dispatch
from kizuna.channels.email import EmailChannel
from kizuna.config import Settings
from kizuna.store import Store, open_store
from kizuna.store.automation import SENT, Delivery
from kizuna.store.migrate import upgrade
from kizuna.store.tables import TABLES_IN_ORDER, Consent, Customer

TARGET_PER_MINUTE = 1_000
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
ITEMS = [
    {
        "product_id": i,
        "sku": f"TEA-{i:03d}",
        "title": f"緑茶 {i}",
        "price": 1200 + i,
        "currency": "JPY",
        "reason": "bought_together",
        "reason_text": {"en": "Often bought together", "ja": "よく一緒に買われています"},
    }
    for i in range(1, 4)
]


class Counter:
    """Counts every message and keeps none."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.received += 1
        return "250 accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _seed(store: Store, n: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(Customer),
            [
                {
                    "external_id": f"bench-{i}",
                    "name": f"顧客 {i}",
                    "email": f"c{i}@example.jp",
                    "attributes": {},
                }
                for i in range(n)
            ],
        )
        ids = list(conn.scalars(select(Customer.id).order_by(Customer.id)))
        conn.execute(
            insert(Consent),
            [
                {
                    "customer_id": c,
                    "purpose": "email",
                    "status": "granted",
                    "source": "bench",
                    "recorded_at": NOW,
                }
                for c in ids
            ],
        )
        conn.execute(
            insert(Delivery),
            [
                {
                    "key": f"0:send:{c}:once:1",
                    "step": "send",
                    "customer_id": c,
                    "channel": "email",
                    "template": "cart-reminder",
                    "arm": "a",
                    "payload": {"coupon": f"CART-{c:08d}", "recommend": {"items": ITEMS}},
                    "status": "pending",
                    "attempts": 0,
                    "created_at": NOW,
                    "due_at": NOW,
                }
                for c in ids
            ],
        )


def _empty(url: str) -> None:
    store = open_store(url)
    upgrade(store.engine)
    names = ", ".join(m.__tablename__ for m in TABLES_IN_ORDER)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3_000, help="deliveries to send (default 3,000)")
    parser.add_argument("--db", help="a PostgreSQL URL (emptied first); default: a fresh SQLite file")
    parser.add_argument("--no-reuse", action="store_true", help="a new SMTP connection for every message")
    args = parser.parse_args()
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="kz-email-") as scratch:
            url = args.db or f"sqlite:///{Path(scratch) / 'bench.db'}"
            if args.db:
                _empty(url)
            store = open_store(url)
            upgrade(store.engine)
            _seed(store, args.messages)
            settings = Settings(
                email_smtp_host="127.0.0.1",
                email_smtp_port=controller.port,
                email_tls="none",
                email_from="Shop <news@shop.example.jp>",
                public_base_url="https://kizuna.example.jp",
                link_secret="a-benchmark-link-secret",  # type: ignore[arg-type]
                shop_product_url="https://shop.example.jp/p/{sku}",
            )
            channel = EmailChannel.from_settings(settings)
            if args.no_reuse:
                channel.reuse_seconds = -1.0  # never reuse: connect, send, quit for each message
            total = DispatchReport()
            started = time.perf_counter()
            while True:
                report = dispatch(store, channel, now=NOW, settings=settings)
                total.add(report)
                if report.claimed == 0:
                    break
            seconds = time.perf_counter() - started
            with store.session() as session:
                sent = session.scalar(select(func.count()).where(Delivery.status == SENT)) or 0
            store.engine.dispose()
    finally:
        controller.stop()
    rate = sent / seconds * 60
    backend = ("PostgreSQL" if args.db else "SQLite") + (", no connection reuse" if args.no_reuse else "")
    print(
        f"{backend}: {sent:,} of {args.messages:,} sent ({counter.received:,} received, "
        f"failed {total.failed}, "
        f"retrying {total.retrying}) in {seconds:.1f} s = {rate:,.0f} messages/min "
        f"(target ≥ {TARGET_PER_MINUTE:,}/min: {'PASS' if rate >= TARGET_PER_MINUTE else 'FAIL'})"
    )
    return 0 if rate >= TARGET_PER_MINUTE and sent == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
