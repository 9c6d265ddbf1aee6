"""Named FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.config import Settings, get_settings
from api.db import get_sessionmaker
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
