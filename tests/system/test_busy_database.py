"""A busy database is a 503 with Retry-After, never a 500; reads do not queue behind writers."""

from __future__ import annotations

import sqlite3
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api import errors
from api.db import get_engine, session_scope
from api.staff import service as staff_service
from api.staff.models import Role
from tests.conftest import clear_app_caches

BUSY_TIMEOUT_SECONDS = 0.3
only_sqlite = pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)


@pytest.fixture
def client_and_key(live_settings, monkeypatch):
    """The app with a short SQLite busy timeout, and an admin's API key."""
    from api.main import create_app

    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_SECONDS", str(BUSY_TIMEOUT_SECONDS))
    clear_app_caches()
    with session_scope() as session:
        admin = staff_service.create_user(session=session, username="busy.admin",
                                          display_name="Busy Admin", role=Role.ADMIN,
                                          password="a long enough password")
        key = staff_service.create_api_key(session=session, user=admin)
        staff_service.authenticate_api_key(session=session, key=key)  # last used: just now
    with TestClient(create_app()) as client:
        yield client, {"Authorization": f"Bearer {key}"}


@pytest.fixture
def write_lock(live_settings):
    """Another process's view: a connection holding SQLite's write lock until released."""
    connection = sqlite3.connect(make_url(live_settings.database_url).database,
                                 isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    yield connection
    connection.rollback()
    connection.close()


@only_sqlite
def test_a_read_only_route_answers_while_a_writer_holds_the_lock(client_and_key, write_lock):
    client, headers = client_and_key
    started = time.monotonic()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert time.monotonic() - started < BUSY_TIMEOUT_SECONDS  # it never waited for the lock


@only_sqlite
def test_a_due_last_used_refresh_never_fails_a_read_while_the_database_is_busy(
        client_and_key, write_lock):
    from sqlalchemy import update

    from api.staff.models import ApiKey

    client, headers = client_and_key
    write_lock.rollback()
    with session_scope() as session:  # make the key's last-used time due a refresh
        session.execute(update(ApiKey).values(last_used_at=None))
    write_lock.execute("BEGIN IMMEDIATE")
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200 and response.json()["username"] == "busy.admin"


@only_sqlite
def test_a_write_that_cannot_get_the_lock_is_a_503_and_a_retry_succeeds(client_and_key,
                                                                         write_lock):
    client, headers = client_and_key
    busy = client.post("/api/v1/offers/release-expired", headers=headers)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert "retry" in busy.json()["detail"]
    write_lock.rollback()
    assert client.post("/api/v1/offers/release-expired", headers=headers).json() == {
        "released": 0}


@pytest.mark.parametrize("live_database_url", ["postgres"], indirect=True)
def test_a_postgresql_lock_timeout_counts_as_busy(live_settings):
    with session_scope() as session:
        staff_service.create_user(session=session, username="locked.row", display_name="Row",
                                  role=Role.CLERK, password="a long enough password")
    with get_engine().connect() as holder, get_engine().connect() as waiter:
        holder.execute(text("SELECT id FROM staff_user FOR UPDATE"))
        waiter.execute(text("SET lock_timeout = '50ms'"))
        with pytest.raises(OperationalError) as refused:
            waiter.execute(text("SELECT id FROM staff_user FOR UPDATE"))
    assert errors.is_busy(refused.value)


def test_other_database_errors_are_not_busy():
    assert not errors.is_busy(OperationalError("SELECT 1", {}, Exception("no such table: x")))
    assert not errors.is_busy(ValueError("database is locked"))
