"""Fixtures for the PAS adapters: a second, empty Rebook database to load an export into."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session

from api.db import make_engine
from api.schema import upgrade

# A fixed "today" keeps the demo trust (and so its exports) the same in every test.
DEMO_TODAY = date(2026, 11, 30)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("pas-template") / "template.db"
    upgrade(database_url=f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def target_session(_migrated_template, tmp_path) -> Iterator[Session]:
    """A session on a fresh, migrated, empty SQLite database (the trust's second Rebook)."""
    path = tmp_path / "target.db"
    shutil.copy(_migrated_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()
