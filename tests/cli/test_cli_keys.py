from __future__ import annotations

import click
from click.testing import CliRunner

from kizuna.cli import _Group
from kizuna.cli.keys import keys
from kizuna.security.keys import verify_key
from kizuna.store import Store

cli: click.Group = _Group("kizuna", commands={"keys": keys})


def test_create_list_revoke(store: Store, db_url: str) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "shop", "--source", "web", "--db", db_url])
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert token.startswith("kzw_")
    secret = runner.invoke(
        cli, ["keys", "create", "crm", "--kind", "secret", "--scope", "profiles:read", "--db", db_url]
    )
    assert secret.exit_code == 0 and secret.output.strip().splitlines()[-1].startswith("kzs_")
    with store.session() as s:
        assert verify_key(s, token, kind="write").source == "web"

    listed = runner.invoke(cli, ["keys", "list", "--db", db_url])
    assert listed.exit_code == 0 and "shop" in listed.output and "profiles:read" in listed.output
    assert token not in listed.output

    prefix = token[:20]
    revoked = runner.invoke(cli, ["keys", "revoke", prefix, "--db", db_url])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "shop" not in runner.invoke(cli, ["keys", "list", "--db", db_url]).output
    assert "shop" in runner.invoke(cli, ["keys", "list", "--all", "--db", db_url]).output

    missing = runner.invoke(cli, ["keys", "revoke", "kzw_unknown", "--db", db_url])
    assert missing.exit_code == 1 and "kizuna keys list" in missing.output
    bad = runner.invoke(cli, ["keys", "create", "x", "--kind", "secret", "--db", db_url])
    assert bad.exit_code == 2 and "at least one scope" in bad.output
