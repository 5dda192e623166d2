"""Dashboard users: password hashing, creating and checking users, and ``kizuna users``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kizuna.cli import main
from kizuna.dashboard.users import (
    authenticate,
    create_user,
    hash_password,
    list_users,
    set_disabled,
    verify_password,
)
from kizuna.errors import AuthenticationError, ConfigError
from kizuna.store import Store
from kizuna.store.dashboard import DashboardUser


def test_hashes_are_salted_scrypt_and_verify_only_the_right_password() -> None:
    first, second = hash_password("a long passphrase"), hash_password("a long passphrase")
    assert first != second and first.startswith("scrypt$16384$8$5$")
    assert verify_password("a long passphrase", first) and verify_password("a long passphrase", second)
    assert not verify_password("a long passphrasE", first)
    assert not verify_password("a long passphrase", "scrypt$broken")
    assert not verify_password("a long passphrase", "md5$16384$8$5$AAAA$AAAA")


def test_a_hash_keeps_its_own_parameters() -> None:
    cheap = hash_password("another passphrase", n=2**10, r=8, p=1)
    assert cheap.startswith("scrypt$1024$8$1$") and verify_password("another passphrase", cheap)


def test_create_refuses_bad_input_and_taken_logins(store: Store) -> None:
    with store.session() as session:
        create_user(session, "Hanako@Example.jp", "long enough password", role="admin", language="ja")
        with pytest.raises(ConfigError, match="already a dashboard user"):
            create_user(session, "hanako@example.jp", "long enough password")
        with pytest.raises(ConfigError, match="too short"):
            create_user(session, "taro@example.jp", "short")
        with pytest.raises(ConfigError, match="unknown role"):
            create_user(session, "taro@example.jp", "long enough password", role="owner")
        with pytest.raises(ConfigError, match="not an email"):
            create_user(session, "taro", "long enough password")
        session.commit()
        [user] = list_users(session)
    assert (user.email, user.role, user.language) == ("hanako@example.jp", "admin", "ja")


def test_authenticate_records_the_sign_in_and_refuses_disabled_users(store: Store) -> None:
    with store.session() as session:
        create_user(session, "hanako@example.jp", "long enough password")
        user = authenticate(session, " HANAKO@example.jp", "long enough password")
        assert user.last_login_at is not None
        with pytest.raises(AuthenticationError):
            authenticate(session, "hanako@example.jp", "wrong password here")
        set_disabled(session, "hanako@example.jp")
        with pytest.raises(AuthenticationError):
            authenticate(session, "hanako@example.jp", "long enough password")


def test_users_commands(db_url: str, store: Store) -> None:
    runner = CliRunner()
    created = runner.invoke(
        main,
        ["users", "create", "sato@example.jp", "--role", "viewer", "--name", "佐藤", "--password-stdin",
         "--db", db_url],
        input="a long password\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    prompted = runner.invoke(
        main, ["users", "create", "kato@example.jp", "--db", db_url], input="pass phrase 1\npass phrase 1\n"
    )
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(main, ["users", "list", "--db", db_url])
    assert "sato@example.jp" in listed.output and "viewer" in listed.output and "佐藤" in listed.output
    assert runner.invoke(main, ["users", "disable", "sato@example.jp", "--db", db_url]).exit_code == 0
    assert "disabled" in runner.invoke(main, ["users", "list", "--db", db_url]).output
    changed = runner.invoke(
        main,
        ["users", "password", "kato@example.jp", "--password-stdin", "--db", db_url],
        input="new pass phrase\n",
    )
    assert changed.exit_code == 0
    with store.session() as session:
        assert authenticate(session, "kato@example.jp", "new pass phrase").email == "kato@example.jp"
        rows = list(session.scalars(select(DashboardUser).order_by(DashboardUser.email)))
    assert [r.disabled for r in rows] == [False, True]
    assert all("pass" not in r.password_hash for r in rows)
    short = runner.invoke(
        main, ["users", "create", "x@example.jp", "--password-stdin", "--db", db_url], input="x\n"
    )
    assert short.exit_code == 2 and "too short" in short.output
    missing = runner.invoke(main, ["users", "disable", "nobody@example.jp", "--db", db_url])
    assert missing.exit_code == 1
