from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from kizuna.errors import AuthenticationError, ConfigError, NotFoundError, PermissionDeniedError
from kizuna.security.keys import create_key, list_keys, revoke_key, verify_key
from kizuna.store import Store
from kizuna.store.access import ApiKey


def test_tokens_are_shown_once_and_stored_hashed(store: Store) -> None:
    with store.session() as s, s.begin():
        key, token = create_key(s, kind="write", name="shop site", source="web")
    assert token.startswith("kzw_") and token.startswith(key.prefix + "_") and len(token) > 50
    with store.session() as s:
        row = s.scalars(select(ApiKey)).one()
        assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = [str(v) for v in (row.prefix, row.key_hash, row.name, row.source, row.scopes)]
        assert not any(token in v for v in stored)
        assert (row.kind, row.source, row.scopes) == ("write", "web", [])


def test_verify_checks_kind_scope_and_revocation(store: Store) -> None:
    with store.session() as s, s.begin():
        _, write = create_key(s, kind="write", name="site")
        _, reader = create_key(s, kind="secret", name="crm", scopes=["profiles:read"])
        _, admin = create_key(s, kind="secret", name="ops", scopes=["admin"])
    with store.session() as s:
        assert verify_key(s, write, kind="write").name == "site"
        assert verify_key(s, reader, kind="secret", scope="profiles:read").name == "crm"
        assert verify_key(s, admin, kind="secret", scope="privacy").name == "ops"
        assert verify_key(s, write).last_used_at is not None
        with pytest.raises(PermissionDeniedError, match="lacks the 'privacy' scope"):
            verify_key(s, reader, kind="secret", scope="privacy")
        with pytest.raises(PermissionDeniedError, match="needs a write key"):
            verify_key(s, reader, kind="write")
        with pytest.raises(AuthenticationError, match="unknown API key"):
            verify_key(s, write[:-2] + "xx")
        with pytest.raises(AuthenticationError, match="malformed"):
            verify_key(s, "Basic abc")
    with store.session() as s, s.begin():
        revoked = revoke_key(s, write[:20])
        assert revoked.revoked_at is not None
    with store.session() as s:
        with pytest.raises(AuthenticationError, match="revoked"):
            verify_key(s, write)
        assert [k.name for k in list_keys(s)] == ["crm", "ops"]
        assert [k.name for k in list_keys(s, include_revoked=True)] == ["site", "crm", "ops"]
        with pytest.raises(NotFoundError, match="kizuna keys list"):
            revoke_key(s, "kzw_nothing")


def test_create_refuses_nonsense(store: Store) -> None:
    with store.session() as s:
        with pytest.raises(ConfigError, match="unknown key kind"):
            create_key(s, kind="root", name="x")
        with pytest.raises(ConfigError, match="take no scopes"):
            create_key(s, kind="write", name="x", scopes=["admin"])
        with pytest.raises(ConfigError, match="at least one scope"):
            create_key(s, kind="secret", name="x")
        with pytest.raises(ConfigError, match="unknown scope"):
            create_key(s, kind="secret", name="x", scopes=["everything"])
        with pytest.raises(ConfigError, match="name"):
            create_key(s, kind="write", name="  ")
