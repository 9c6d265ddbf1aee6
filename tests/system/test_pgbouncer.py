"""A real PgBouncer in transaction mode in front of PostgreSQL: migrations and the app's work
go through it with DATABASE_POOLER=pgbouncer, and without that setting psycopg's prepared
statements break on it.

PgBouncer comes from Debian's package (`apt-get install pgbouncer`); the test skips without
it, unless REBOOK_REQUIRE_POSTGRES=1 (CI), where a missing PgBouncer is a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.conftest import clear_app_caches, point_at_live_database
from tests.processes import free_port
from tests.twilio_helpers import inbound_form, post_signed

# Two server connections for everything: transactions from many client connections are
# shuffled over them, which is what transaction pooling does to a busy deployment.
INI = """[databases]
* = host={host} port={port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {auth_file}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 200
"""


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError("pgbouncer did not listen in time")


@pytest.fixture
def pgbouncer_url(postgres_url):
    """A fresh database behind a PgBouncer of our own; its URL through PgBouncer."""
    binary = shutil.which("pgbouncer") or shutil.which("/usr/sbin/pgbouncer")
    if binary is None:
        if os.environ.get("REBOOK_REQUIRE_POSTGRES") == "1":
            pytest.fail("pgbouncer is required (apt-get install -y pgbouncer)")
        pytest.skip("pgbouncer not installed (apt-get install -y pgbouncer)")
    direct = make_url(postgres_url)
    database = f"{direct.database}_pgb_{uuid.uuid4().hex[:6]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    # PgBouncer refuses to run as root; as root it drops to the postgres user, which must be
    # able to read its files (pytest's tmp_path is private to root).
    folder = Path(tempfile.mkdtemp(prefix="rebook-pgbouncer-"))
    folder.chmod(0o755)
    (folder / "userlist.txt").write_text(f'"{direct.username}" ""\n')
    listen = free_port()
    ini = folder / "pgbouncer.ini"
    ini.write_text(INI.format(host=direct.host or "127.0.0.1", port=direct.port or 5432,
                              listen=listen, auth_file=folder / "userlist.txt"))
    for path in folder.iterdir():
        path.chmod(0o644)
    log = folder / "pgbouncer.log"
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
    with open(log, "wb") as out:
        process = subprocess.Popen([binary, *as_user, str(ini)], stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_for_port(listen, process, log)
        yield direct.set(host="127.0.0.1", port=listen, database=database).render_as_string(
            hide_password=False)
    finally:
        process.terminate()
        process.wait(10)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def _engine_through(url: str, monkeypatch, pooler: str):
    from api.db import make_engine

    monkeypatch.setenv("DATABASE_POOLER", pooler)
    clear_app_caches()
    return make_engine(url)


def _same_statement_then_another_server_connection(url: str, monkeypatch, pooler: str):
    """Run one statement often on one client connection (psycopg prepares it after five runs,
    on the server connection PgBouncer lent), then again while another client holds that
    server connection, so PgBouncer lends this client a different one."""
    engine, other = (_engine_through(url, monkeypatch, pooler) for _ in range(2))
    try:
        with engine.connect() as conn:
            for i in range(8):
                assert conn.execute(text("SELECT CAST(:n AS integer) + 1"), {"n": i}).scalar() \
                    == i + 1
                conn.commit()
            with other.connect() as holder:
                holder.execute(text("SELECT 1"))  # its transaction keeps the server connection
                result = conn.execute(text("SELECT CAST(:n AS integer) + 1"), {"n": 41})
                answer = result.scalar()
                conn.commit()
                holder.rollback()
            return answer
    finally:
        engine.dispose()
        other.dispose()
        clear_app_caches()


def test_prepared_statements_fail_through_pgbouncer_without_the_setting(pgbouncer_url,
                                                                        monkeypatch):
    import psycopg
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="prepared statement") as raised:
        _same_statement_then_another_server_connection(pgbouncer_url, monkeypatch, "none")
    assert isinstance(raised.value.orig, psycopg.errors.InvalidSqlStatementName)


def test_with_database_pooler_pgbouncer_no_statement_is_prepared(pgbouncer_url, monkeypatch):
    assert _same_statement_then_another_server_connection(
        pgbouncer_url, monkeypatch, "pgbouncer") == 42


def test_migrations_turns_and_sends_through_pgbouncer(pgbouncer_url, monkeypatch, caplog):
    """Migrate, store messages from several numbers, answer them with a worker of four
    threads and send the replies with a dispatcher of eight, all over two server connections:
    the same statements run hundreds of times from many client connections. Without the
    setting the outcome would be the same in the end (a failed turn is retried), so what
    proves it is that nothing failed on the way."""
    from fastapi.testclient import TestClient

    from api.config import get_settings
    from api.db import get_sessionmaker
    from api.main import create_app
    from api.messaging.dispatcher import Dispatcher
    from api.messaging.models import Direction, Message, MessageStatus
    from api.messaging.senders import SandboxSender
    from api.schema import upgrade
    from tests.conversations.helpers import echo_worker

    caplog.set_level(logging.ERROR)
    point_at_live_database(monkeypatch, pgbouncer_url)
    monkeypatch.setenv("DATABASE_POOLER", "pgbouncer")
    clear_app_caches()
    try:
        upgrade(database_url=pgbouncer_url)
        settings = get_settings()
        factory = get_sessionmaker()
        patients = [f"+4477009007{i:02d}" for i in range(6)]
        with TestClient(create_app(), base_url="http://testserver") as client:
            for round_ in range(4):
                for number in patients:
                    form = inbound_form(from_=number, body=f"message {round_}")
                    assert post_signed(client, form).status_code == 200
        echo_worker(settings, factory).drain(timeout=60)
        dispatcher = Dispatcher(settings=settings, session_factory=factory,
                                sender=SandboxSender())
        while dispatcher.run_once():
            pass
        with factory() as session:
            rows = session.execute(select(Message.direction, Message.status, Message.to_address,
                                          Message.body).order_by(Message.id)).all()
    finally:
        from api.db import get_engine

        get_engine().dispose()
        clear_app_caches()
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == []
    inbound = Counter(r.status for r in rows if r.direction is Direction.INBOUND)
    assert inbound == {MessageStatus.PROCESSED: 24}
    replies = [r for r in rows if r.direction is Direction.OUTBOUND]
    assert {r.status for r in replies} == {MessageStatus.DELIVERED}
    for number in patients:
        assert [r.body for r in replies if r.to_address == number] == [
            f"echo: message {i}" for i in range(4)]
