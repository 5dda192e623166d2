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


def test_the_demo_shop_is_served_by_default_on_sqlite_only(tmp_path: Path) -> None:
    # `kizuna serve` hands its workers the store's URL, so a SQLite URL must count as the embedded store.
    assert Settings(data_dir=tmp_path, database_url=None).demo_shop_enabled()
    assert Settings(database_url=f"sqlite:///{tmp_path}/k.db").demo_shop_enabled()
    assert not Settings(database_url="postgresql+psycopg://u@h/db").demo_shop_enabled()
    assert Settings(database_url="postgresql+psycopg://u@h/db", web_demo_shop=True).demo_shop_enabled()
    assert not Settings(data_dir=tmp_path, database_url=None, web_demo_shop=False).demo_shop_enabled()
