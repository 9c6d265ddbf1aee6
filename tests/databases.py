"""Throwaway PostgreSQL databases for runs of real processes (the replica test, benchmarks)."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.schema import upgrade


def create_database(admin_url: str, *, prefix: str = "rebook_bench") -> str:
    """A fresh database beside `admin_url`'s, migrated to the newest schema; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(database_url=url)
    return url


def drop_database(admin_url: str, url: str) -> None:
    """Drop `url`'s database, disconnecting whatever still holds it."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()
