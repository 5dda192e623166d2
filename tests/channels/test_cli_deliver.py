"""``kizuna deliver``: one pass through the webhook channel, its summary, and its configuration errors."""

from __future__ import annotations

from datetime import timedelta

import click
import pytest
from click.testing import CliRunner
from outbox_seed import customer, delivery, get
from webhook_receiver import Receiver

from kizuna.cli import _Group
from kizuna.cli.deliver import deliver_command
from kizuna.config import get_settings
from kizuna.store.engine import Store
from kizuna.store.types import utcnow

cli: click.Group = _Group("kizuna", commands={"deliver": deliver_command})


def _configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(f"KIZUNA_{name.upper()}", value)
    get_settings.cache_clear()


def test_deliver_once_sends_and_summarises(
    store: Store, db_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.answers["/bad"] = 400
    _configure(
        monkeypatch,
        webhook_url=receiver.url(),
        webhook_urls=f'{{"broken": "{receiver.url("/bad")}"}}',
        webhook_secret="x" * 20,
    )
    who, due = customer(store), utcnow() - timedelta(minutes=1)
    good = [delivery(store, who, due_at=due) for _ in range(3)]
    bad = delivery(store, who, template="broken", due_at=due)
    later = delivery(store, who, due_at=utcnow() + timedelta(hours=1))

    result = CliRunner().invoke(
        cli, ["deliver", "--channel", "webhook", "--once", "--limit", "10", "--db", db_url]
    )

    assert result.exit_code == 0, result.output
    assert "sent 3, failed 1, suppressed 0, retrying 0" in result.output
    assert [get(store, r).status for r in [*good, bad, later]] == ["sent"] * 3 + ["failed", "pending"]
    assert len(receiver.requests) == 4


def test_deliver_says_what_to_set_when_no_channel_is_configured(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["deliver", "--once", "--db", db_url])
    assert result.exit_code == 2
    assert "no channel can send" in result.output
    assert "KIZUNA_WEBHOOK_SECRET" in result.output and "KIZUNA_EMAIL_SMTP_HOST" in result.output
    named = CliRunner().invoke(cli, ["deliver", "--channel", "webhook", "--once", "--db", db_url])
    assert named.exit_code == 2 and "KIZUNA_WEBHOOK_SECRET" in named.output


def test_deliver_refuses_unknown_channels(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["deliver", "--channel", "fax", "--once", "--db", db_url])
    assert result.exit_code == 2 and "fax" in result.output


def test_deliver_without_a_channel_sends_through_the_configured_ones(
    db_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, webhook_url=receiver.url(), webhook_secret="x" * 20)
    result = CliRunner().invoke(cli, ["deliver", "--once", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "skipped: the email channel is not configured" in result.output
    assert "sent 0, failed 0" in result.output
