"""Settings: the one place kizuna reads its environment.

Every setting has the prefix ``KIZUNA_`` (``KIZUNA_DATABASE_URL``, ``KIZUNA_DATA_DIR`` ...) and may also
be put in a ``.env`` file in the working directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(user_data_dir("kizuna", appauthor=False))


class Settings(BaseSettings):
    """kizuna's settings, read from ``KIZUNA_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="KIZUNA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the embedded SQLite store and generated files live; created on first use.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store. Unset: a SQLite file in data_dir. "
        "postgresql+psycopg://user@host/db selects PostgreSQL.",
    )
    default_timezone: str = Field(
        default="Asia/Tokyo",
        description="Timezone assumed for imported times that carry none, and for new customers.",
    )
    default_currency: str = Field(default="JPY", min_length=3, max_length=3)
    import_batch_size: int = Field(default=20_000, ge=100, description="Rows written per batch.")

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    def resolved_database_url(self) -> str:
        """The database URL to use: the configured one, or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'kizuna.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
