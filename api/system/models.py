"""The system's own table: leases that let one process of several lead (the scheduler)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime


class LeaderLease(Base):
    """Who runs a job that must run in one process at a time, and until when.

    A row per job (`name`); the holder renews it before each pass. Kept in the database, not
    in a session advisory lock, so it works through a transaction-pooling PgBouncer and on
    SQLite alike.
    """

    __tablename__ = "leader_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
