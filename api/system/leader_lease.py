"""One leader among several processes: a lease row taken, renewed and released in the database.

Two statements, each atomic on its own on PostgreSQL and SQLite: an insert that creates the
row (and so the lease) if nobody ever held it, and an update that takes the lease only if it is
ours already or has expired. Under PostgreSQL's READ COMMITTED a second updater waits for the
first's commit and re-checks the condition against the row it wrote, so two processes never
both see one row updated. Nothing outlives the transaction (no session advisory lock), so it is
safe behind a transaction-pooling PgBouncer.

Leases compare the processes' clocks: keep them in sync (NTP) and leases long against any skew.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.db import utcnow
from api.system.models import LeaderLease


def hold(*, session: Session, name: str, holder: str, seconds: float) -> bool:
    """Take or renew lease `name` for `holder` for `seconds`; whether `holder` now holds it."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    created = session.execute(
        insert(LeaderLease).values(name=name, holder=holder, expires_at=until)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(LeaderLease.name)).first()
    if created is not None:
        return True
    taken = session.execute(
        update(LeaderLease)
        .where(LeaderLease.name == name,
               (LeaderLease.holder == holder) | (LeaderLease.expires_at < now))
        .values(holder=holder, expires_at=until)
        .execution_options(synchronize_session=False)).rowcount
    return taken == 1


def release(*, session: Session, name: str, holder: str) -> bool:
    """Give lease `name` up at once if `holder` holds it, so another takes over now."""
    return session.execute(
        update(LeaderLease)
        .where(LeaderLease.name == name, LeaderLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
        .execution_options(synchronize_session=False)).rowcount == 1
