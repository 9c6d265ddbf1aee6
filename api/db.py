"""Database engine, session factory and the declarative base every table shares."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import DateTime, Enum, MetaData, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from api.config import get_settings

# Stable constraint names, so Alembic migrations can drop and alter them by name
# on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no timezone type and hands back naive values; this stores UTC and
    always returns aware datetimes, so comparisons never mix naive and aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], length: int = 32) -> Enum:
    """A VARCHAR enum storing the member values: new values need no ALTER TYPE."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _prepare_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
        # The sqlite3 driver's own transaction handling defers BEGIN and breaks
        # SAVEPOINTs; we issue BEGIN ourselves (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - driver hook
        # IMMEDIATE takes the write lock up front: two writers queue on the busy timeout
        # instead of failing with "database is locked" mid-transaction. A session that only
        # reads asks for a deferred BEGIN (see `read_only_session`): in WAL mode it then never
        # waits for, nor holds up, a writer.
        if connection.get_execution_options().get(_READS_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


_READS_ONLY = "rebook_reads_only"


def pooler_connect_args(settings) -> dict:
    """Driver arguments for the connection pooler in front of PostgreSQL (DATABASE_POOLER).

    PgBouncer in transaction mode gives each transaction whichever server connection is free,
    so a statement psycopg prepared on one server connection (after five runs of the same
    text) is unknown on the next: "prepared statement _pg3_0 does not exist". Without
    prepared statements nothing of ours depends on the server session: locks are
    transaction-scoped (pg_advisory_xact_lock, FOR UPDATE), settings are SET LOCAL, wake-ups
    go through Redis (no LISTEN), and there are no temporary tables or held cursors.
    """
    if settings.database_pooler == "pgbouncer":
        return {"prepare_threshold": None}
    return {}


def make_engine(url: str) -> Engine:
    """Create an engine for `url`, with SQLite tuned for several processes."""
    settings = get_settings()
    # A connection for every thread that may run a request's database work (the api admits
    # fewer requests than it has threads: api.system.admission), so a request never waits for
    # a connection while holding a thread; the timeout only guards against the unforeseen.
    pool = {"pool_size": settings.api_threads, "max_overflow": 0,
            "pool_timeout": settings.db_pool_timeout_seconds}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            pool = {}  # one in-memory database per connection: SQLAlchemy pools it its own way
        busy_timeout = settings.sqlite_busy_timeout_seconds
        engine = create_engine(url, connect_args={"timeout": busy_timeout}, hide_parameters=True,
                               **pool)
        _prepare_sqlite(engine, busy_timeout_ms=int(busy_timeout * 1000))
        return engine
    # hide_parameters: SQL errors must not carry phone numbers or NHS numbers into logs.
    return create_engine(url, pool_pre_ping=True, hide_parameters=True,
                         connect_args=pooler_connect_args(settings), **pool)


def skip_commit_flush(session: Session) -> None:
    """Let this transaction's commit return before its WAL reaches the disk (PostgreSQL).

    Only for bookkeeping that is harmless to lose in a database crash, such as a worker's
    lease or the conversation a message belongs to: a crash loses at most the last fraction
    of a second of such commits, never corrupts anything, and any later ordinary commit
    flushes them too. It saves a disk flush per commit: ~0.2 ms on a local SSD, several
    milliseconds on network storage.
    Patient-visible effects (messages stored, replies queued, bookings) keep full durability.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    # Every table must be known before the first flush, or foreign keys to a table this
    # process never imported cannot resolve (a worker never imports the staff models).
    import api.models  # noqa: F401

    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def read_only_session() -> Session:
    """A session for work that only reads: on SQLite its transaction does not take the write
    lock (a write in it may fail with "database is locked" when another writer is busy)."""
    engine = get_engine()
    return get_sessionmaker()(bind=engine.execution_options(**{_READS_ONLY: True}))


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
