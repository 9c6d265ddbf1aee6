"""Named FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.config import Settings, get_settings
from api.db import get_sessionmaker
from api.messaging import signature
from api.staff import service as staff_service
from api.staff.models import Role, StaffUser


def get_session() -> Iterator[Session]:
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="A key from `rebook staff create-api-key`")


def get_staff_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> StaffUser:
    """The authenticated staff user (API key now; console sessions join here later)."""
    if credentials is not None:
        user = staff_service.authenticate_api_key(session=session, key=credentials.credentials)
        if user is not None:
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

    return check


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
