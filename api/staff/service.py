"""Staff accounts and API keys: create, authenticate."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.staff.models import ApiKey, Role, StaffUser

_hasher = PasswordHasher()
API_KEY_PREFIX = "rbk_"
MIN_PASSWORD_LENGTH = 12


class StaffError(ValueError):
    """A staff account request that cannot be honoured."""


def create_user(*, session: Session, username: str, display_name: str, password: str,
                role: Role) -> StaffUser:
    """Add a staff user with an argon2-hashed password."""
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise StaffError("username may hold letters, digits, '.', '-' and '_' only")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise StaffError(f"a staff user called {username!r} already exists")
    user = StaffUser(username=username, display_name=display_name,
                     password_hash=_hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def verify_password(*, user: StaffUser, password: str) -> bool:
    """True when `password` matches the user's stored hash."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def _digest(secret: str) -> str:
    # API keys are 32 random bytes: a fast keyed hash is enough (no dictionary to attack),
    # and it keeps bearer authentication cheap on every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(*, session: Session, user: StaffUser, label: str = "") -> str:
    """Issue a new API key for `user`; the plain key is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKey(prefix=prefix, key_hash=_digest(secret), staff_user_id=user.id,
                       label=label))
    session.flush()
    return f"{API_KEY_PREFIX}{prefix}_{secret}"


def authenticate_api_key(*, session: Session, key: str) -> StaffUser | None:
    """The active staff user an API key belongs to, or None."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    prefix, _, secret = key[len(API_KEY_PREFIX):].partition("_")
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _digest(secret)):
        return None
    user = session.get(StaffUser, row.staff_user_id)
    return user if user and user.active else None


def revoke_api_key(*, session: Session, prefix: str) -> None:
    """Stop an API key working from now on."""
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None:
        raise StaffError("no such API key")
    row.revoked_at = utcnow()


def get_user(*, session: Session, username: str) -> StaffUser | None:
    """The staff user with this username, if any."""
    if "\x00" in username:
        return None  # no username holds NUL, and PostgreSQL cannot even compare one that does
    return session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))


def is_locked(*, user: StaffUser, now: datetime | None = None) -> bool:
    """True while a lockout after failed sign-ins is in force."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())
