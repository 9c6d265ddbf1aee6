"""Shared fixtures: a migrated database on each backend and a savepoint-per-test session.

Storage tests take `db_session`, which runs them once on SQLite and once on PostgreSQL
(TEST_POSTGRES_URL, default the local `test` server). Each test runs inside a
transaction that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from api.db import make_engine
from api.schema import upgrade

os.environ.setdefault("ENVIRONMENT", "test")
os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-suite")

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def live_redis_url() -> str:
    """The suite's Redis, after checking it answers: skipped without it, failed in CI."""
    import redis  # the probe only; the app's clients come from api.system.redis_client

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except Exception:
        if os.environ.get("REBOOK_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}")
        pytest.skip("Redis not reachable; set TEST_REDIS_URL")
    return REDIS_URL


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'rebook-test.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, throw-away PostgreSQL database for this test run."""
    if not _postgres_available():
        if os.environ.get("REBOOK_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_ADMIN_URL}")
        pytest.skip("PostgreSQL not reachable; set TEST_POSTGRES_URL")
    name = f"rebook_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def migrated_engine(request) -> Iterator[Engine]:
    """An engine on a database upgraded to the newest migration, for each backend."""
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade(database_url=url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(migrated_engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    with migrated_engine.connect() as connection:
        transaction = connection.begin()
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def api_client(db_session):
    """A TestClient whose requests share the test's rolled-back session."""
    from fastapi.testclient import TestClient

    from api.deps import get_session
    from api.main import create_app

    app = create_app()
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as client:
        yield client


# -- committed data: for the worker, the dispatcher and webhooks under concurrency ---------

TEST_AUTH_TOKEN = "test-twilio-auth-token-0123456789"
TEST_PUBLIC_BASE_URL = "https://rebook.test.example"


def clear_app_caches() -> None:
    from api import db
    from api.config import get_settings

    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def live_database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated database (per backend) for tests whose work must really commit."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
        upgrade(database_url=url)
        yield url
        return
    base = make_url(request.getfixturevalue("postgres_url"))
    live = base.set(database=f"{base.database}_live")
    admin = create_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{live.database}"'))
    url = live.render_as_string(hide_password=False)
    upgrade(database_url=url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{live.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def live_settings(live_database_url, monkeypatch):
    """Settings (and the app's engine) pointed at the live database; emptied afterwards."""
    from api.config import get_settings

    point_at_live_database(monkeypatch, live_database_url)
    clear_app_caches()
    yield get_settings()
    empty_live_database()


def point_at_live_database(monkeypatch, live_database_url: str) -> None:
    """The environment the live fixtures run the app in."""
    monkeypatch.setenv("DATABASE_URL", live_database_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", TEST_PUBLIC_BASE_URL)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    monkeypatch.setenv("MESSAGING_MODE", "sandbox")
    # Tests must not depend on the time of day they run: the send window is always open
    # unless a test closes it on purpose.
    monkeypatch.setenv("SEND_WINDOW_START", "00:00")
    monkeypatch.setenv("SEND_WINDOW_END", "23:59:59.999999")
    monkeypatch.delenv("REDIS_URL", raising=False)


def empty_live_database() -> None:
    """Delete every row the test committed, and forget the engine and settings."""
    import api.models  # noqa: F401
    from api.db import Base, get_engine

    with get_engine().begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    get_engine().dispose()
    clear_app_caches()


@pytest.fixture
def live_session_factory(live_settings):
    from api.db import get_sessionmaker

    return get_sessionmaker()


@pytest.fixture
def live_client(live_settings):
    """The app over the live database, as Twilio and staff reach it."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(), base_url="http://testserver") as client:
        yield client


# -- the whole suite's log output is scanned for personal data ------------------------------

SUITE_LOG_FILES: list = []


@pytest.fixture(scope="session", autouse=True)
def suite_log(tmp_path_factory):
    """Everything the code logs during the suite, through the production handler."""
    import logging

    from api.logs import build_handler

    path = tmp_path_factory.mktemp("logs") / "suite.log"
    stream = open(path, "w")
    handler = build_handler(stream)
    logging.getLogger().addHandler(handler)
    SUITE_LOG_FILES.append(path)
    yield path
    logging.getLogger().removeHandler(handler)
    stream.close()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any log line of the suite (or of its subprocesses) holds personal data."""
    from tests.log_scan import find_personal_data

    offending = find_personal_data(SUITE_LOG_FILES)
    if offending:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line("personal data found in log output:", red=True)
            for line in offending[:20]:
                reporter.write_line(f"  {line[:300]}", red=True)
        session.exitstatus = 1
