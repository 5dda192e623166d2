from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.config import Settings


def test_default_database_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'kizuna-data' / 'kizuna.db'}"


def test_environment_selects_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_DATABASE_URL", "postgresql+psycopg://u@db/kizuna")
    assert Settings().resolved_database_url() == "postgresql+psycopg://u@db/kizuna"


def test_invalid_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_IMPORT_BATCH_SIZE", "5")
    with pytest.raises(ValueError, match="import_batch_size"):
        Settings()
