"""Dashboard sessions: a signed cookie, its CSRF token, the signing secret, and sign-in rate limits.

The session lives in the cookie itself, signed with HMAC-SHA256 under ``Settings.dashboard_secret``: the
user's id, a stamp derived from their password hash (so a new password ends every session), the session's
CSRF token (synchronizer token: every form and state-changing request carries it back), the language chosen,
and the expiry. The cookie is HttpOnly, SameSite=Lax, and Secure when the dashboard is served over https.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, replace

from kizuna.config import Settings
from kizuna.security.stored import kept_secret

COOKIE = "kz_session"
_SECRET_FILE = "dashboard-secret"  # noqa: S105 (a file name)


def session_secret(settings: Settings) -> bytes:
    """The secret sessions are signed with: the setting, else one generated once and kept in the data dir."""
    return kept_secret(settings, _SECRET_FILE, settings.dashboard_secret).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class DashboardSession:
    """What the session cookie holds. ``user_id`` 0 is a visitor who has not signed in (yet has a CSRF
    token, so the sign-in form is protected too)."""

    user_id: int
    stamp: str
    csrf: str
    language: str | None
    expires: float

    @classmethod
    def anonymous(cls, seconds: float, language: str | None = None) -> DashboardSession:
        """A fresh session for a visitor who has not signed in."""
        return cls(0, "", secrets.token_urlsafe(32), language, time.time() + seconds)

    def with_language(self, language: str) -> DashboardSession:
        """The same session speaking ``language``."""
        return replace(self, language=language)


def password_stamp(secret: bytes, password_hash: str) -> str:
    """A short keyed digest of the user's password hash: it changes when the password does."""
    return hmac.new(secret, b"stamp:" + password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def sign_session(session: DashboardSession, secret: bytes) -> str:
    """The cookie value for ``session``."""
    body = json.dumps(
        [session.user_id, session.stamp, session.csrf, session.language, int(session.expires)],
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(secret, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def read_session(value: str | None, secret: bytes, *, now: float | None = None) -> DashboardSession | None:
    """The session in a cookie value, or None when it is missing, tampered with, malformed or expired."""
    if not value or "." not in value:
        return None
    body_text, _, mac_text = value.partition(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError):
        return None
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
        return None
    try:
        user_id, stamp, csrf, language, expires = json.loads(body)
        found = DashboardSession(int(user_id), str(stamp), str(csrf), language, float(expires))
    except (ValueError, TypeError):
        return None
    if found.expires < (time.time() if now is None else now):
        return None
    return found


def same_token(given: str | None, expected: str) -> bool:
    """Whether a CSRF token sent back matches the session's (constant time)."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given).encode(), expected.encode())


class LoginLimiter:
    """Failed sign-ins per account and per address within a window, kept in memory (per process).

    After ``limit`` failures for an account or an address in ``window`` seconds, further attempts for it are
    refused until the oldest failure leaves the window, whatever the password: guessing stays slow.
    """

    def __init__(self, limit: int, window: float = 15 * 60, *, size: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.size = size
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.get(key)
        if found is None:
            return deque()
        while found and found[0] <= now - self.window:
            found.popleft()
        return found

    def blocked(self, *keys: str) -> bool:
        """Whether any of ``keys`` (``account:...``, ``ip:...``) has used up its attempts."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        """Count a failed attempt against each of ``keys``."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.size:
                self._failures = {k: v for k, v in self._failures.items() if self._recent(k, now)}
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, account_key: str) -> None:
        """Forget an account's failures after a correct sign-in (the address's stay counted)."""
        with self._lock:
            self._failures.pop(account_key, None)
