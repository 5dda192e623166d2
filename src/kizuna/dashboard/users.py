"""Dashboard users: creating, listing, disabling them, setting passwords, and checking a sign-in.

Passwords are hashed with scrypt from Python's standard library (``hashlib.scrypt``): a memory-hard KDF,
so guessing costs memory as well as time, and no extra dependency. The parameters are OWASP's (N=2**14, r=8,
p=5: 16 MiB and about a tenth of a second per guess here) and are stored with each hash, so raising them later
leaves older hashes readable. A hash looks like ``scrypt$16384$8$5$<salt b64>$<key b64>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kizuna.errors import AuthenticationError, ConfigError, NotFoundError
from kizuna.store.dashboard import ROLES, DashboardUser
from kizuna.store.types import utcnow

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 5
_KEY_BYTES = 32
_MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD = 10
LANGUAGES = ("ja", "en")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
#: Checked against when the login is unknown, so a wrong login takes as long as a wrong password.
_DUMMY_HASH: str | None = None


@dataclass(frozen=True)
class UserInfo:
    """A dashboard user as the pages and the CLI see it (never the password hash)."""

    id: int
    email: str
    display_name: str | None
    role: str
    language: str | None
    created_at: datetime
    last_login_at: datetime | None
    disabled: bool

    @property
    def can_change(self) -> bool:
        """Whether the user may change things (viewers only look)."""
        return self.role in ("admin", "marketer")

    @property
    def is_admin(self) -> bool:
        """Whether the user may start privacy requests."""
        return self.role == "admin"


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """The scrypt hash of ``password`` with a fresh 16-byte salt, parameters included."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=_MAXMEM)
    encode = base64.b64encode
    return f"scrypt${n}${r}${p}${encode(salt).decode()}${encode(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (compared in constant time); malformed hashes never match."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        found = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=_MAXMEM,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def _normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned) or len(cleaned) > 320:
        raise ConfigError(f"login {email!r} is not an email address: give one like hanako@example.jp")
    return cleaned


def check_password(password: str) -> str:
    """``password`` when it is long enough; a ConfigError saying what is wanted otherwise."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is too short: use {MIN_PASSWORD} characters or more")
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}: use {', '.join(ROLES)}")
    return role


def check_language(language: str | None) -> str | None:
    """``language`` when it is one the dashboard speaks (or None); a ConfigError otherwise."""
    if language is not None and language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r}: use {' or '.join(LANGUAGES)}")
    return language


def info(row: DashboardUser) -> UserInfo:
    """The user row as :class:`UserInfo`."""
    return UserInfo(
        row.id,
        row.email,
        row.display_name,
        row.role,
        row.language,
        row.created_at,
        row.last_login_at,
        row.disabled,
    )


def _row(session: Session, email: str) -> DashboardUser:
    found = session.scalars(select(DashboardUser).where(DashboardUser.email == email.strip().lower())).first()
    if found is None:
        raise NotFoundError(f"no dashboard user {email!r}; see `kizuna users list`")
    return found


def create_user(
    session: Session,
    email: str,
    password: str,
    *,
    role: str = "marketer",
    display_name: str | None = None,
    language: str | None = None,
) -> UserInfo:
    """Add a dashboard user; the caller commits. Refuses a login that is taken."""
    login = _normalise_email(email)
    _check_role(role)
    check_language(language)
    check_password(password)
    taken = session.scalar(select(func.count()).where(DashboardUser.email == login))
    if taken:
        raise ConfigError(f"there is already a dashboard user {login!r}: pick another login")
    row = DashboardUser(
        email=login,
        display_name=(display_name or "").strip() or None,
        password_hash=hash_password(password),
        role=role,
        language=language,
        created_at=utcnow(),
        disabled=False,
    )
    session.add(row)
    session.flush()
    return info(row)


def list_users(session: Session) -> list[UserInfo]:
    """Every dashboard user, by login."""
    return [info(row) for row in session.scalars(select(DashboardUser).order_by(DashboardUser.email))]


def get_user(session: Session, user_id: int) -> UserInfo | None:
    """The user with ``user_id``, or None."""
    row = session.get(DashboardUser, user_id)
    return None if row is None else info(row)


def set_disabled(session: Session, email: str, disabled: bool = True) -> UserInfo:
    """Disable (or enable again) a user; a disabled user's sessions stop working at their next request."""
    row = _row(session, email)
    row.disabled = disabled
    session.flush()
    return info(row)


def set_password(session: Session, email: str, password: str) -> UserInfo:
    """Give a user a new password; their existing sessions end (the session is tied to the hash)."""
    row = _row(session, email)
    row.password_hash = hash_password(check_password(password))
    session.flush()
    return info(row)


def set_language(session: Session, user_id: int, language: str) -> None:
    """Remember the user's language."""
    row = session.get(DashboardUser, user_id)
    if row is not None:
        row.language = check_language(language)


def password_hash_of(session: Session, user_id: int) -> str | None:
    """The stored hash of the user's password (None for unknown or disabled users), to tie sessions to it."""
    row = session.get(DashboardUser, user_id)
    if row is None or row.disabled:
        return None
    return row.password_hash


def authenticate(session: Session, email: str, password: str) -> UserInfo:
    """The user for a correct login and password, their last sign-in recorded; the caller commits.

    Raises:
        AuthenticationError: unknown login, wrong password or disabled user, all with the same message, so
            the answer tells nobody which logins exist.
    """
    global _DUMMY_HASH
    row = session.scalars(select(DashboardUser).where(DashboardUser.email == email.strip().lower())).first()
    if row is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(16))
        verify_password(password, _DUMMY_HASH)
        raise AuthenticationError("wrong login or password")
    if not verify_password(password, row.password_hash) or row.disabled:
        raise AuthenticationError("wrong login or password")
    row.last_login_at = utcnow()
    return info(row)
