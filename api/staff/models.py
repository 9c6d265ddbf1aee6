"""Staff accounts and the API keys trust systems use."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UTCDateTime, str_enum, utcnow


class Role(enum.StrEnum):
    CLERK = "clerk"
    CLINICIAN = "clinician"
    ADMIN = "admin"


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="oidc_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every console session cookie; raising it ends all of them: on sign-out, a
    # password change or reset, and deactivation. (The cookie carries nothing of the password.)
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Single sign-on: the identity provider and its immutable id for this person (Entra's
    # "oid", else "sub"); never the e-mail or username, which people and admins can change.
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_actor(self) -> str:
        """Who did it, as the audit trail names a member of staff ("staff:<id>")."""
        return f"staff:{self.id}"


class ApiKey(Base):
    """Only a hash of the key is stored; the prefix finds the row without scanning."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(255))
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Refreshed at most every few minutes (see staff.service), so a burst of requests does
    # not write, and on SQLite take the database's write lock, once per request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Loaded with the key in one query: every bearer request needs both.
    staff_user: Mapped[StaffUser] = relationship(lazy="joined")
