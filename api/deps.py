"""Named FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api import errors
from api.config import Settings, get_settings
from api.db import get_sessionmaker, read_only_session
from api.messaging import signature
from api.staff import auth as staff_auth
from api.staff import service as staff_service
from api.staff.models import Role, StaffUser

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READS_ONLY_MARK = "reads_only"


def reads_only(endpoint: Callable) -> Callable:
    """Mark a GET route whose request never writes (no audit event either): on SQLite its
    transaction then takes no write lock, so it neither waits for writers nor delays them."""
    setattr(endpoint, _READS_ONLY_MARK, True)
    return endpoint


def _reads_only(request: Request) -> bool:
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return request.method in _SAFE_METHODS and getattr(endpoint, _READS_ONLY_MARK, False)


def get_session(request: Request) -> Iterator[Session]:
    session = read_only_session() if _reads_only(request) else get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def twilio_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The POSTed form, after checking X-Twilio-Signature against the public URL (else 403)."""
    form = await request.form()
    params = {key: str(value) for key, value in form.multi_items()}
    url = signature.public_url(public_base_url=settings.public_base_url,
                               path=request.url.path, query=request.url.query)
    if not signature.is_valid(auth_token=settings.twilio_auth_token.get_secret_value(),
                              url=url, params=params,
                              signature=request.headers.get("X-Twilio-Signature")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid Twilio signature")
    return params


TwilioRequest = Annotated[dict[str, str], Depends(twilio_form)]

_bearer = HTTPBearer(auto_error=False, description="A key from `rebook staff create-api-key`")


def get_staff_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> StaffUser:
    """The authenticated staff user: an API key, or a console session cookie (whose unsafe
    requests must repeat the session's CSRF token in X-CSRF-Token)."""
    if credentials is not None:
        user = staff_service.authenticate_api_key(session=session, key=credentials.credentials)
        if user is not None:
            if session.dirty:
                # The key's last-used time was due a refresh (at most every few minutes):
                # commit it now, in a transaction of its own, since read-only routes never commit.
                # Best effort: while another writer holds the database, the request goes on
                # without it rather than answer 503 for a convenience field.
                try:
                    session.commit()
                except DBAPIError as exc:
                    if not errors.is_busy(exc):
                        raise
                    session.rollback()
            return user
    else:
        found = staff_auth.read_session(session=session, settings=settings,
                                        cookie=request.cookies.get(staff_auth.SESSION_COOKIE))
        if found is not None:
            user, console = found
            if request.method not in _SAFE_METHODS and not staff_auth.csrf_matches(
                    console.csrf, request.headers.get("X-CSRF-Token")):
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail="missing or wrong CSRF token")
            return user
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="sign in or send Authorization: Bearer <api key>",
        headers={"WWW-Authenticate": "Bearer"},
    )


StaffUserDep = Annotated[StaffUser, Depends(get_staff_user)]


def require_role(*roles: Role) -> Callable[[StaffUser], StaffUser]:
    """A dependency that lets through only staff with one of `roles`."""

    def check(user: StaffUserDep) -> StaffUser:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="your role cannot do this")
        return user

    check.checks_role = True  # documents its 403 (api/system/openapi.py)
    return check

