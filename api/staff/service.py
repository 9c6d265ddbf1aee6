"""Staff accounts and API keys: create, authenticate, and manage (every change audited)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import errors
from api.audit import service as audit_service
from api.db import utcnow
from api.errors import RefusedRequest
from api.staff import passwords
from api.staff.models import ApiKey, Role, StaffUser

_hasher = PasswordHasher()
API_KEY_PREFIX = "rbk_"
MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
# An API key's last-used time is refreshed at most this often: enough to tell a live key from
# a forgotten one, without a database write (SQLite's write lock) on every request.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class StaffError(RefusedRequest):
    """A staff account request that cannot be honoured (422, as every semantic refusal)."""

    status_code = 422


class NotFound(StaffError, errors.NotFound):
    """No such staff user or API key."""

    status_code = 404


def _check_password(password: str, *, username: str, display_name: str) -> None:
    # The user's own names are the first thing a guesser tries ("jbloggs2024" for j.bloggs).
    parts = re.split(r"[._\-\s]+", f"{username} {display_name}".lower())
    reason = passwords.problem(password, user_inputs=(
        username, re.sub(r"[._\-]", "", username), *(p for p in parts if len(p) >= 3)))
    if reason:
        raise StaffError(reason)


def is_valid_username(username: str) -> bool:
    """True for a name of letters, digits, '.', '-' and '_' that fits the column."""
    return bool(re.fullmatch(r"[\w.-]{1,64}", username))


def create_user(*, session: Session, username: str, display_name: str, password: str,
                role: Role) -> StaffUser:
    """Add a staff user with an argon2-hashed password."""
    username = username.strip().lower()
    if not is_valid_username(username):
        raise StaffError("username may hold letters, digits, '.', '-' and '_' only "
                         "(at most 64)")
    _check_password(password, username=username, display_name=display_name)
    if session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise StaffError(f"a staff user called {username!r} already exists")
    user = StaffUser(username=username, display_name=display_name,
                     password_hash=_hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def verify_password(*, user: StaffUser, password: str) -> bool:
    """True when `password` matches the user's stored hash."""
    if not passwords.is_encodable(password):
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def get_user(*, session: Session, username: str) -> StaffUser | None:
    """The staff user with this username, if any."""
    username = username.strip().lower()
    if not is_valid_username(username):
        return None  # no such account can exist; and PostgreSQL refuses NUL in a query
    return session.scalar(select(StaffUser).where(StaffUser.username == username))


def user_named(*, session: Session, username: str) -> StaffUser:
    """The staff user with this username, or NotFound."""
    user = get_user(session=session, username=username)
    if user is None:
        raise NotFound(f"no staff user {username.strip().lower()!r}")
    return user


def user_by_id(*, session: Session, user_id: int) -> StaffUser:
    """The staff user with this id, or NotFound."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound("no such staff user")
    return user


def list_users(*, session: Session, actor: str) -> list[StaffUser]:
    """Every staff user, by username (the listing is audited)."""
    users = list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
    audit_service.record(session=session, actor=actor, action="view_staff_users",
                         object_type="staff_user", object_id="*", details={"count": len(users)})
    return users


def is_locked(*, user: StaffUser, now: datetime | None = None) -> bool:
    """True while a lockout after failed sign-ins is in force."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def end_sessions(*, user: StaffUser) -> None:
    """End every console session of `user`, on any device (a copied cookie is then worthless)."""
    user.session_generation = (user.session_generation or 0) + 1


def _set_password(user: StaffUser, password: str) -> None:
    _check_password(password, username=user.username, display_name=user.display_name)
    user.password_hash = _hasher.hash(password)
    end_sessions(user=user)


def deactivate(*, session: Session, actor: str, user: StaffUser) -> list[str]:
    """Stop `user` signing in: end their sessions and revoke their API keys (the prefixes)."""
    if actor == user.audit_actor:
        raise StaffError("you cannot deactivate your own account; ask another admin")
    user.active = False
    end_sessions(user=user)
    revoked = []
    for key in session.scalars(select(ApiKey).where(ApiKey.staff_user_id == user.id,
                                                    ApiKey.revoked_at.is_(None))):
        key.revoked_at = utcnow()
        revoked.append(key.prefix)
    audit_service.record(session=session, actor=actor, action="deactivate_staff_user",
                         object_type="staff_user", object_id=user.id,
                         details={"revoked_api_keys": revoked})
    return revoked


def reactivate(*, session: Session, actor: str, user: StaffUser) -> None:
    """Let a deactivated user sign in again (their old API keys stay revoked)."""
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    audit_service.record(session=session, actor=actor, action="reactivate_staff_user",
                         object_type="staff_user", object_id=user.id)


def reset_password(*, session: Session, actor: str, user: StaffUser,
                   password: str | None = None) -> str | None:
    """An admin sets a temporary password (or has one generated, returned once); the user's
    sessions end and any lockout is lifted."""
    generated = passwords.generate() if password is None else None
    _set_password(user, password if password is not None else generated)
    user.failed_logins = 0
    user.locked_until = None
    audit_service.record(session=session, actor=actor, action="reset_password",
                         object_type="staff_user", object_id=user.id,
                         details={"generated": generated is not None})
    return generated


def change_password(*, session: Session, user: StaffUser, current_password: str,
                    new_password: str) -> None:
    """A user changes their own password (the current one is required); every session ends."""
    if not verify_password(user=user, password=current_password):
        audit_service.record(session=session, actor=user.audit_actor,
                             action="change_password_refused", object_type="staff_user",
                             object_id=user.id)
        raise StaffError("your current password is wrong")
    if hmac.compare_digest(current_password, new_password):
        raise StaffError("choose a new password that differs from the current one")
    _set_password(user, new_password)
    audit_service.record(session=session, actor=user.audit_actor,
                         action="change_password", object_type="staff_user", object_id=user.id)


def unlock(*, session: Session, actor: str, user: StaffUser) -> None:
    """Lift a lockout after failed sign-ins now rather than when it expires."""
    was_locked = is_locked(user=user)
    user.failed_logins = 0
    user.locked_until = None
    audit_service.record(session=session, actor=actor, action="unlock_staff_user",
                         object_type="staff_user", object_id=user.id,
                         details={"was_locked": was_locked})


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


def authenticate_api_key(*, session: Session, key: str,
                         now: datetime | None = None) -> StaffUser | None:
    """The active staff user an API key belongs to, or None; refreshes the key's last-used
    time when it is older than LAST_USED_RESOLUTION (the caller commits)."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    prefix, _, secret = key[len(API_KEY_PREFIX):].partition("_")
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _digest(secret)):
        return None
    user = row.staff_user
    if not user.active:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return user


def list_api_keys(*, session: Session, actor: str, user: StaffUser | None = None) -> list[ApiKey]:
    """API keys (of one user, or all), newest first; never the keys themselves (audited)."""
    query = select(ApiKey).order_by(ApiKey.id.desc())
    if user is not None:
        query = query.where(ApiKey.staff_user_id == user.id)
    keys = list(session.scalars(query))
    audit_service.record(session=session, actor=actor, action="view_api_keys",
                         object_type="api_key", object_id="*",
                         details={"staff_user_id": user.id if user else None,
                                  "count": len(keys)})
    return keys


def revoke_api_key(*, session: Session, actor: str, prefix: str) -> ApiKey:
    """Stop an API key working from now on (revoking twice changes nothing)."""
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix.strip()))
    if row is None:
        raise NotFound("no such API key")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit_service.record(session=session, actor=actor, action="revoke_api_key",
                             object_type="api_key", object_id=row.prefix,
                             details={"staff_user_id": row.staff_user_id})
    return row
