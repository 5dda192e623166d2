"""Signing in and out, sessions, CSRF and sign-in limits, on a store with users only."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path

from dashboard_seed import PASSWORD, USERS, csrf_of, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kizuna.config import Settings
from kizuna.dashboard.security import COOKIE, DashboardSession, read_session, session_secret, sign_session
from kizuna.dashboard.users import set_disabled, set_password
from kizuna.store import Store


def _client(app_for: Callable[[Store], FastAPI], store: Store) -> TestClient:
    return TestClient(app_for(store), base_url="http://127.0.0.1")


def test_pages_need_a_session_and_redirect_to_the_sign_in_form(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = _client(app_for, with_users)
    for path in ("/", "/customers?q=x", "/segments", "/scenarios", "/privacy"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=%2F")
    assert client.post("/segments/count.json", json={}).status_code in (401, 403)
    assert client.get("/healthz").status_code == 200  # the API keeps its own rules


def test_sign_in_sets_a_protected_cookie_and_sign_out_ends_it(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = _client(app_for, with_users)
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"csrf_token": token, "email": USERS["marketer"], "password": PASSWORD, "next": "/segments"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/segments"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = client.get("/")
    assert page.status_code == 200 and "marketer@example.jp" in page.text
    session_token = csrf_of(page.text)
    assert session_token != token  # a new session, with a new token, after signing in
    client.post("/logout", data={"csrf_token": session_token}, follow_redirects=False)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_login_are_refused_alike(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = _client(app_for, with_users)
    for email, password in ((USERS["admin"], "wrong password!"), ("nobody@example.jp", PASSWORD)):
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"csrf_token": token, "email": email, "password": password})
        assert answer.status_code == 401
        assert "Wrong login or password" in answer.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_user_cannot_sign_in_and_loses_an_open_session(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = sign_in(_client(app_for, with_users), USERS["viewer"])
    assert client.get("/").status_code == 200
    with with_users.session() as session, session.begin():
        set_disabled(session, USERS["viewer"])
    assert client.get("/", follow_redirects=False).status_code == 303
    other = _client(app_for, with_users)
    token = csrf_of(other.get("/login").text)
    refused = other.post("/login", data={"csrf_token": token, "email": USERS["viewer"], "password": PASSWORD})
    assert refused.status_code == 401


def test_a_new_password_ends_open_sessions(with_users: Store, app_for: Callable[[Store], FastAPI]) -> None:
    client = sign_in(_client(app_for, with_users), USERS["admin"])
    with with_users.session() as session, session.begin():
        set_password(session, USERS["admin"], "another long password")
    assert client.get("/", follow_redirects=False).status_code == 303
    sign_in(client, USERS["admin"], "another long password")
    assert client.get("/").status_code == 200


def test_sign_in_without_the_csrf_token_is_refused(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = _client(app_for, with_users)
    client.get("/login")
    answer = client.post("/login", data={"email": USERS["admin"], "password": PASSWORD})
    assert answer.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_cookie_counts_as_no_session(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = sign_in(_client(app_for, with_users), USERS["viewer"])
    value = client.cookies[COOKIE]
    body, _, mac = value.partition(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    client.cookies.clear()
    assert client.get("/", headers={"cookie": f"{COOKIE}={value}"}).status_code == 200
    assert (
        client.get("/", headers={"cookie": f"{COOKIE}={tampered}"}, follow_redirects=False).status_code == 303
    )


def test_failed_sign_ins_are_limited_per_account(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = _client(app_for, with_users)
    codes = []
    for _ in range(6):
        token = csrf_of(client.get("/login").text)
        codes.append(
            client.post(
                "/login", data={"csrf_token": token, "email": USERS["admin"], "password": "not the password"}
            ).status_code
        )
    assert codes == [401] * 5 + [429]
    token = csrf_of(client.get("/login").text)
    blocked = client.post("/login", data={"csrf_token": token, "email": USERS["admin"], "password": PASSWORD})
    assert blocked.status_code == 429  # even the right password waits until the window passes


def test_sign_in_goes_back_only_to_this_site(with_users: Store, app_for: Callable[[Store], FastAPI]) -> None:
    client = _client(app_for, with_users)
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"csrf_token": token, "email": USERS["admin"], "password": PASSWORD, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_pages_carry_a_strict_content_security_policy(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = sign_in(_client(app_for, with_users), USERS["admin"])
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/").headers["x-frame-options"] == "DENY"


def test_the_cookie_is_secure_over_https(with_users: Store, app_for: Callable[[Store], FastAPI]) -> None:
    client = TestClient(app_for(with_users), base_url="https://dashboard.example.jp")
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"csrf_token": token, "email": USERS["admin"], "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_the_session_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")  # type: ignore[call-arg]
    first = session_secret(settings)
    path = tmp_path / "data" / "dashboard-secret"
    assert len(first) == 64 and session_secret(settings) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    chosen = Settings(data_dir=tmp_path / "data", dashboard_secret="x" * 40)  # type: ignore[call-arg]
    assert session_secret(chosen) == b"x" * 40


def test_an_expired_session_is_no_session() -> None:
    secret = b"s" * 32
    live = DashboardSession(1, "stamp", "token", "ja", time.time() + 60)
    assert read_session(sign_session(live, secret), secret) == DashboardSession(
        1, "stamp", "token", "ja", float(int(live.expires))
    )
    expired = DashboardSession(1, "stamp", "token", "ja", time.time() - 1)
    assert read_session(sign_session(expired, secret), secret) is None
    assert read_session(sign_session(live, secret), b"t" * 32) is None


def test_the_sign_in_page_switches_language_before_signing_in(
    with_users: Store, app_for: Callable[[Store], FastAPI]
) -> None:
    client = _client(app_for, with_users)
    token = csrf_of(client.get("/login").text)
    assert client.post("/language", data={"lang": "ja", "back": "/login"}).status_code == 403
    switched = client.post("/language", data={"csrf_token": token, "lang": "ja", "back": "/login"})
    assert switched.status_code == 200 and '<html lang="ja">' in switched.text and "ログイン" in switched.text
