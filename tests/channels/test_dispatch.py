"""The dispatcher: consent at the point of sending, retries with backoff, leases, and nothing sent twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from outbox_seed import T0, all_deliveries, customer, delivery, get

from kizuna.channels.base import (
    OutboxDelivery,
    PermanentError,
    Recipient,
    RenderContext,
    Rendered,
    TransientError,
)
from kizuna.channels.dispatch import DispatchReport, backoff, claim, dispatch, dispatch_forever
from kizuna.config import Settings
from kizuna.privacy.consent import record_consent
from kizuna.privacy.erase import delete_customer_in_store
from kizuna.store import Store

SETTINGS = Settings(
    delivery_backoff_seconds=60,
    delivery_backoff_max_seconds=200,
    delivery_max_attempts=5,
    delivery_lease_seconds=120,
)


class Recording:
    """A channel that records what it sends, and fails as told: ``failures`` are raised in turn first."""

    def __init__(self, name: str = "email", purpose: str | None = "email") -> None:
        self.name = name
        self.purpose = purpose
        self.sent: list[str] = []
        self.failures: list[Exception] = []
        self.during_send: Callable[[], None] | None = None
        self.render_error: Exception | None = None

    def render(self, delivery: OutboxDelivery, recipient: Recipient, context: RenderContext) -> Rendered:
        if self.render_error is not None:
            raise self.render_error
        return Rendered(delivery.key, self.name, recipient.external_id, delivery.key.encode(), "text/plain")

    def send(self, rendered: Rendered) -> None:
        if self.during_send is not None:
            self.during_send()
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(rendered.key)


def _run(store: Store, channel: Recording, now: datetime, **kwargs: object) -> DispatchReport:
    return dispatch(store, channel, now=now, settings=kwargs.pop("settings", SETTINGS), **kwargs)  # type: ignore[arg-type]


def test_due_deliveries_of_the_channel_are_sent_and_recorded(store: Store) -> None:
    who = customer(store)
    first = delivery(store, who, channel="email", due_at=T0 - timedelta(minutes=5))
    second = delivery(store, who, channel="email", due_at=T0)
    later = delivery(store, who, channel="email", due_at=T0 + timedelta(seconds=1))
    other = delivery(store, who, channel="direct_mail", due_at=T0)
    channel = Recording()

    report = _run(store, channel, T0)

    assert (report.claimed, report.sent) == (2, 2)
    assert channel.sent == [get(store, first).key, get(store, second).key]
    for row_id in (first, second):
        row = get(store, row_id)
        assert (row.status, row.sent_at, row.attempts, row.error) == ("sent", T0, 1, None)
    assert get(store, later).status == "pending" and get(store, other).status == "pending"


def test_consent_is_checked_when_sending_not_when_written(store: Store) -> None:
    stays, withdraws, never = customer(store), customer(store), customer(store, consent=())
    rows = {who: delivery(store, who, channel="email") for who in (stays, withdraws, never)}
    with store.session() as session, session.begin():
        record_consent(session, withdraws, "email", "withdrawn", at=T0 + timedelta(minutes=1))
    channel = Recording()

    report = _run(store, channel, T0 + timedelta(minutes=2))

    assert (report.sent, report.suppressed) == (1, 2)
    assert channel.sent == [get(store, rows[stays]).key]
    for who in (withdraws, never):
        row = get(store, rows[who])
        assert (row.status, row.error, row.sent_at) == ("suppressed", "no consent: email", None)


def test_a_channel_without_purpose_skips_consent_but_not_erasure(store: Store) -> None:
    no_consent, anonymised = customer(store, consent=()), customer(store, consent=())
    kept = delivery(store, no_consent, channel="webhook")
    gone = delivery(store, anonymised, channel="webhook")
    delete_customer_in_store(store, anonymised, mode="anonymise")
    channel = Recording("webhook", None)

    report = _run(store, channel, T0)

    assert (report.sent, report.suppressed) == (1, 1)
    assert channel.sent == [get(store, kept).key]
    assert (get(store, gone).status, get(store, gone).error) == ("suppressed", "customer anonymised")


def test_transient_failures_back_off_exponentially_up_to_the_cap_then_fail(store: Store) -> None:
    row = delivery(store, customer(store), channel="email")
    channel = Recording()
    channel.failures = [TransientError(f"busy {n}") for n in range(1, 6)]
    now, waits = T0, []
    for attempt in range(1, SETTINGS.delivery_max_attempts):
        assert _run(store, channel, now).retrying == 1
        stored = get(store, row)
        assert (stored.status, stored.attempts, stored.error) == ("pending", attempt, f"busy {attempt}")
        assert _run(store, channel, stored.due_at - timedelta(seconds=1)).claimed == 0
        waits.append((stored.due_at - now).total_seconds())
        now = stored.due_at
    assert waits == [60, 120, 200, 200]
    assert [backoff(n, SETTINGS).total_seconds() for n in range(1, 5)] == waits

    report = _run(store, channel, now)

    stored = get(store, row)
    assert report.failed == 1
    assert (stored.status, stored.attempts, stored.error) == ("failed", 5, "busy 5")
    assert _run(store, channel, now + timedelta(days=1)).claimed == 0
    assert channel.sent == []


def test_a_permanent_failure_is_recorded_and_not_retried(store: Store) -> None:
    row = delivery(store, customer(store), channel="email")
    channel = Recording()
    channel.failures = [PermanentError("no such address")]

    assert _run(store, channel, T0).failed == 1
    assert _run(store, channel, T0 + timedelta(days=1)).claimed == 0
    stored = get(store, row)
    assert (stored.status, stored.error, stored.attempts) == ("failed", "no such address", 1)


def test_render_errors_and_unexpected_errors(store: Store) -> None:
    who = customer(store)
    row = delivery(store, who, channel="email")
    channel = Recording()
    channel.render_error = PermanentError("template 'x' not found")
    assert _run(store, channel, T0).failed == 1
    assert get(store, row).error == "template 'x' not found"

    buggy = delivery(store, who, channel="email")
    channel.render_error = None
    channel.failures = [ValueError("oops")]
    assert _run(store, channel, T0).retrying == 1
    assert get(store, buggy).error == "unexpected ValueError: oops"


def test_nothing_is_sent_twice_when_dispatch_runs_again(store: Store) -> None:
    who = customer(store)
    rows = [delivery(store, who, channel="email") for _ in range(3)]
    channel = Recording()

    for minutes in (0, 0, 1, 60):
        _run(store, channel, T0 + timedelta(minutes=minutes))

    assert sorted(channel.sent) == sorted(get(store, r).key for r in rows)
    assert len(channel.sent) == 3


def test_a_delivery_is_sending_in_a_committed_state_during_the_network_call(store: Store) -> None:
    row = delivery(store, customer(store), channel="email")
    channel = Recording()
    seen: list[tuple[str, int]] = []

    def look() -> None:
        stored = get(store, row)  # another connection: sees only what is committed
        seen.append((stored.status, stored.attempts))
        seen.append((str(_run(store, Recording(), T0).claimed), 0))

    channel.during_send = look
    _run(store, channel, T0)

    assert seen == [("sending", 1), ("0", 0)]
    assert get(store, row).status == "sent"


def test_a_stale_sending_lease_is_retried_and_counts_as_an_attempt(store: Store) -> None:
    row = delivery(store, customer(store), channel="email")
    with store.session() as session, session.begin():  # a dispatcher that claimed, then died
        claimed, _ = claim(session, "email", now=T0, limit=10, settings=SETTINGS)
    assert [d.id for d in claimed] == [row]
    channel = Recording()
    lease = timedelta(seconds=SETTINGS.delivery_lease_seconds)

    assert _run(store, channel, T0 + lease - timedelta(seconds=1)).claimed == 0
    report = _run(store, channel, T0 + lease)

    assert report.sent == 1
    stored = get(store, row)
    assert (stored.status, stored.attempts) == ("sent", 2)


def test_a_stale_lease_with_its_attempts_used_up_fails(store: Store) -> None:
    row = delivery(store, customer(store), channel="email")
    settings = SETTINGS.model_copy(update={"delivery_max_attempts": 1})
    with store.session() as session, session.begin():
        claim(session, "email", now=T0, limit=10, settings=settings)

    report = _run(store, Recording(), T0 + timedelta(hours=1), settings=settings)

    assert (report.claimed, report.failed) == (0, 1)
    stored = get(store, row)
    assert stored.status == "failed" and stored.error is not None and "gave up after 1" in stored.error


def test_a_dispatcher_whose_lease_was_taken_over_records_nothing(store: Store) -> None:
    row = delivery(store, customer(store), channel="email")
    slow, other = Recording(), Recording()
    after_lease = T0 + timedelta(seconds=SETTINGS.delivery_lease_seconds + 1)
    slow.during_send = lambda: _run(store, other, after_lease) and None

    report = _run(store, slow, T0)

    assert (report.sent, report.lost) == (0, 1)
    stored = get(store, row)
    assert (stored.status, stored.attempts, stored.sent_at) == ("sent", 2, after_lease)


def test_a_batch_running_past_half_its_lease_hands_the_rest_back(store: Store) -> None:
    who = customer(store)
    rows = [delivery(store, who, channel="email") for _ in range(3)]
    settings = SETTINGS.model_copy(update={"delivery_lease_seconds": 1})
    channel = Recording()
    channel.during_send = lambda: time.sleep(0.6)

    report = _run(store, channel, T0, settings=settings)

    assert (report.sent, report.released) == (1, 2)
    assert [(get(store, r).status, get(store, r).attempts, get(store, r).due_at) for r in rows[1:]] == [
        ("pending", 0, T0),
        ("pending", 0, T0),
    ]


def test_the_limit_bounds_a_pass(store: Store) -> None:
    who = customer(store)
    for _ in range(5):
        delivery(store, who, channel="email")
    channel = Recording()
    assert _run(store, channel, T0, limit=2).sent == 2
    assert _run(store, channel, T0, limit=10).sent == 3


def test_two_dispatchers_on_postgresql_take_different_rows(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    who = customer(store)
    rows = [delivery(store, who, channel="email") for _ in range(5)]
    with store.session() as first, store.session() as second:
        first.begin()
        taken_first, _ = claim(first, "email", now=T0, limit=2, settings=SETTINGS)
        second.begin()
        taken_second, _ = claim(second, "email", now=T0, limit=10, settings=SETTINGS)
        second.commit()
        first.commit()
    ids_first, ids_second = {d.id for d in taken_first}, {d.id for d in taken_second}
    assert len(ids_first) == 2 and len(ids_second) == 3
    assert ids_first | ids_second == set(rows)
    assert {r.status for r in all_deliveries(store)} == {"sending"}


def test_dispatch_forever_runs_until_stopped(store: Store) -> None:
    who = customer(store)
    for _ in range(3):
        delivery(store, who, channel="email")
    channel, stop = Recording(), threading.Event()
    passes: list[DispatchReport] = []

    def on_pass(report: DispatchReport) -> None:
        passes.append(report)
        if len(passes) == 2:
            stop.set()

    total = dispatch_forever(
        store, [channel], limit=2, stop=stop, now=lambda: T0, on_pass=on_pass, settings=SETTINGS
    )

    assert [p.sent for p in passes] == [2, 1]
    assert total.sent == 3 and len(channel.sent) == 3
