"""Schema migrations: upgrade a database to the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(*, database_url: str | None = None, revision: str = "head") -> None:
    """Upgrade the database to `revision` (the newest by default)."""
    command.upgrade(alembic_config(database_url), revision)
