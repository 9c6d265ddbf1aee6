"""Migrations build the whole schema on a blank database, on both backends."""

from sqlalchemy import inspect

import api.models  # noqa: F401
from api.db import Base, make_engine
from api.schema import upgrade


def _assert_matches_models(url: str) -> None:
    upgrade(database_url=url)
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
        for name, table in Base.metadata.tables.items():
            columns = {c["name"] for c in inspector.get_columns(name)}
            assert columns == {c.name for c in table.columns}, name
    finally:
        engine.dispose()
    upgrade(database_url=url)  # a second upgrade is a no-op, not an error


def test_upgrade_blank_sqlite(tmp_path):
    _assert_matches_models(f"sqlite:///{tmp_path / 'blank.db'}")


def test_upgrade_blank_postgresql(postgres_url):
    # postgres_url is a fresh, empty database; the session-wide one may be migrated
    # already by other tests, so make our own.
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    blank = make_url(postgres_url).set(database=make_url(postgres_url).database + "_blank")
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{blank.database}"'))
    try:
        _assert_matches_models(blank.render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{blank.database}" WITH (FORCE)'))
        admin.dispose()


def test_models_and_migrations_agree(tmp_path):
    """Autogenerate finds nothing to do: every model change has a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'drift.db'}"
    upgrade(database_url=url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
