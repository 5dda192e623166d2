"""Secrets kizuna keeps for itself when none is configured: generated once, kept in the data directory.

A secret that only kizuna reads (the key that signs dashboard sessions, the key that signs the links in
messages) need not be chosen by a person: on first use :func:`kept_secret` writes 32 random bytes, hex, to
``data_dir/<name>`` with mode 600, and every later use (every worker, every command) reads that file. Several
machines serving one store must share it: set the setting instead, so that a link signed by one is read by the
others.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from kizuna.config import Settings


def kept_secret(settings: Settings, name: str, configured: SecretStr | None = None) -> str:
    """``configured`` when given, else the secret kept in ``data_dir/name``, generated on first use."""
    if configured is not None:
        return configured.get_secret_value()
    path = Path(settings.data_dir) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process wrote it first: read theirs
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()


def link_secret(settings: Settings) -> str:
    """The secret the links in messages are signed under: ``KIZUNA_LINK_SECRET``, else the one kept in
    ``data_dir/link-secret``."""
    return kept_secret(settings, "link-secret", settings.link_secret)
