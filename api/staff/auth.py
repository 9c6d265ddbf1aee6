"""Console sign-in: signed session cookies, CSRF tokens, login rate limits and lockout."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.config import Settings
from api.db import utcnow
from api.errors import RefusedRequest
from api.staff import service as staff_service
from api.staff.models import StaffUser
from api.system import client_address

log = logging.getLogger(__name__)

SESSION_COOKIE = "rebook_session"
LOGIN_CSRF_COOKIE = "rebook_login_csrf"
SESSION_MAX_AGE = 8 * 60 * 60  # one shift; then sign in again
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Per client address and per username, so one attacker cannot lock every account quickly
# and many addresses cannot guess one password quickly.
LOGIN_RATE_PER_ADDRESS = parse("20/minute")
LOGIN_RATE_PER_USERNAME = parse("10/minute")
_DUMMY: dict[int, str] = {}


def _spend_a_password_check(password: str) -> None:
    """Verify against a throw-away hash, so an unknown username takes as long as a known one."""
    hasher = staff_service._hasher
    dummy = _DUMMY.get(id(hasher)) or _DUMMY.setdefault(id(hasher),
                                                        hasher.hash("not-a-real-password-0"))
    try:
        hasher.verify(dummy, password or "x")
    except Exception:
        pass


@dataclass(frozen=True)
class ConsoleSession:
    user_id: int
    csrf: str


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=salt)


def issue_session(*, settings: Settings, user: StaffUser) -> str:
    """A signed cookie value naming the user, with a fresh CSRF token."""
    # The generation ties the session to the user's last sign-out, password change or reset
    # and deactivation (staff_service.end_sessions). The cookie is signed, not encrypted, so
    # it carries nothing derived from the password.
    return _serializer(settings, "console-session").dumps(
        {"u": user.id, "c": secrets.token_urlsafe(24), "g": user.session_generation or 0})


def read_session(*, session: Session, settings: Settings,
                 cookie: str | None) -> tuple[StaffUser, ConsoleSession] | None:
    """The active user a session cookie belongs to, or None.

    A lockout does not end sessions: it stops new password sign-ins only, so an attacker
    guessing a password cannot throw the real user out of a shift's work.
    """
    if not cookie:
        return None
    try:
        data = _serializer(settings, "console-session").loads(cookie, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(StaffUser, data["u"])
    if user is None or not user.active:
        return None
    if data.get("g") != (user.session_generation or 0):
        return None  # signed out, password changed or reset since: a copied cookie is worthless
    return user, ConsoleSession(user_id=user.id, csrf=str(data.get("c", "")))


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time CSRF token comparison."""
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


def issue_login_csrf(*, settings: Settings) -> tuple[str, str]:
    """(cookie value, form token) for the sign-in form, which has no session yet."""
    token = secrets.token_urlsafe(24)
    return _serializer(settings, "login-csrf").dumps(token), token


def login_csrf_ok(*, settings: Settings, cookie: str | None, token: str | None) -> bool:
    """True when the sign-in form's token matches its signed cookie."""
    if not cookie or not token:
        return False
    try:
        expected = _serializer(settings, "login-csrf").loads(cookie, max_age=3600)
    except BadSignature:
        return False
    return csrf_matches(str(expected), token)


@lru_cache(maxsize=4)
def _limiter(redis_url: str | None) -> MovingWindowRateLimiter:
    storage = storage_from_string(redis_url) if redis_url else MemoryStorage()
    return MovingWindowRateLimiter(storage)


def reset_rate_limits() -> None:
    """Forget every in-memory counter (tests)."""
    _limiter.cache_clear()


class LoginRefused(RefusedRequest):
    """Sign-in failed; the message is safe to show (it never says which part was wrong)."""

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.status_code = status_code


# One answer for an unknown user, a wrong password, an inactive and a locked account: anything
# else would tell a guesser which usernames exist. It still tells the real user what to do.
WRONG_OR_LOCKED = ("Your username or password is wrong, or the account is locked for "
                   f"{int(LOCKOUT.total_seconds() // 60)} minutes after "
                   f"{MAX_FAILED_LOGINS} failed sign-ins. Try again later or ask an admin.")


def throttle(*, settings: Settings, username: str, address: str) -> None:
    """Count one password attempt against the user's and the address's limits (else 429)."""
    limiter = _limiter(settings.redis_url)
    if not (limiter.hit(LOGIN_RATE_PER_ADDRESS, "login-address", client_address.bucket(address))
            and limiter.hit(LOGIN_RATE_PER_USERNAME, "login-user",
                            username.strip().lower()[:64])):
        raise LoginRefused("Too many sign-in attempts. Wait a minute and try again.", 429)


def login(*, session: Session, settings: Settings, username: str, password: str,
          address: str) -> StaffUser:
    """Check a username and password under rate limits and lockout; the user, or LoginRefused."""
    name = username.strip().lower()[:64]
    throttle(settings=settings, username=name, address=address)
    user = staff_service.get_user(session=session, username=name) if name else None
    if user is None:
        _spend_a_password_check(password)
        raise LoginRefused(WRONG_OR_LOCKED)
    if staff_service.is_locked(user=user):
        _spend_a_password_check(password)  # as slow as a real check: the timing tells nothing
        audit_service.record(session=session, actor=f"staff:{user.id}", action="login_locked",
                             object_type="staff_user", object_id=user.id)
        raise LoginRefused(WRONG_OR_LOCKED)
    if not user.active or not staff_service.verify_password(user=user, password=password):
        user.failed_logins = (user.failed_logins or 0) + 1
        details = {"failed_logins": user.failed_logins}
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = utcnow() + LOCKOUT
            user.failed_logins = 0
            details["locked"] = True
            log.warning("staff account locked", extra={"staff_user_id": user.id})
            audit_service.record(session=session, actor="system", action="lock_staff_user",
                                 object_type="staff_user", object_id=user.id,
                                 details={"until": user.locked_until.isoformat()})
        audit_service.record(session=session, actor=f"staff:{user.id}", action="login_failed",
                             object_type="staff_user", object_id=user.id, details=details)
        raise LoginRefused(WRONG_OR_LOCKED)
    user.failed_logins = 0
    user.locked_until = None
    audit_service.record(session=session, actor=f"staff:{user.id}", action="login",
                         object_type="staff_user", object_id=user.id)
    return user


def change_own_password(*, session: Session, settings: Settings, user: StaffUser,
                        current_password: str, new_password: str, address: str) -> None:
    """A signed-in user changes their password; the current one is checked under the sign-in
    limits, so a stolen session cannot be used to guess it quickly."""
    throttle(settings=settings, username=user.username, address=address)
    staff_service.change_password(session=session, user=user, current_password=current_password,
                                  new_password=new_password)
