"""Staff JSON API: who am I, change my password, and (admins) manage accounts and API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from api.deps import SessionDep, SettingsDep, StaffUserDep, reads_only, require_role
from api.errors import STAFF_ERRORS, ErrorOut
from api.staff import auth as staff_auth
from api.staff import service as staff_service
from api.staff.models import Role, StaffUser
from api.staff.schemas import (
    ApiKeyOut,
    PasswordChange,
    PasswordReset,
    PasswordResetOut,
    StaffAccountOut,
    StaffOut,
)
from api.system import client_address

router = APIRouter(prefix="/api/v1", tags=["staff"], responses=STAFF_ERRORS)

AdminDep = Annotated[StaffUser, Depends(require_role(Role.ADMIN))]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The staff user's id")]
KeyPrefix = Annotated[str, Path(pattern=r"^[0-9a-f]{1,16}$",
                                description="The key's prefix (after rbk_, before the next _)")]

SIGNED_IN = {401: {"model": ErrorOut, "description": "Not signed in and no valid API key"},
             403: {"model": ErrorOut, "description": "A console session without its CSRF token"}}
ADMINS = SIGNED_IN | {403: {"model": ErrorOut,
                            "description": "Not an admin, or a console session without its "
                                           "CSRF token"}}
USER = ADMINS | {404: {"model": ErrorOut, "description": "No such staff user"}}
REFUSED = {422: {"model": ErrorOut, "description": "Refused; `detail` says why"}}


@router.get("/me", response_model=StaffOut, responses=SIGNED_IN)
@reads_only
def me(user: StaffUserDep) -> StaffOut:
    """The staff user the request is authenticated as."""
    return StaffOut.model_validate(user)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT,
             responses=SIGNED_IN | REFUSED | {
                 429: {"model": ErrorOut, "description": "Too many password attempts"}})
def change_my_password(body: PasswordChange, request: Request, session: SessionDep,
                       settings: SettingsDep, user: StaffUserDep) -> Response:
    """Change your own password (the current one is required); ends all your console sessions."""
    staff_auth.change_own_password(
        session=session, settings=settings, user=user, current_password=body.current_password,
        new_password=body.new_password,
        address=client_address.of_request(request,
                                          forwarded_allow_ips=settings.forwarded_allow_ips))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/staff/users", response_model=list[StaffAccountOut], responses=ADMINS)
def list_users(session: SessionDep, admin: AdminDep) -> list[StaffAccountOut]:
    """Every staff account (admins)."""
    users = staff_service.list_users(session=session, actor=admin.audit_actor)
    session.commit()
    return [StaffAccountOut.model_validate(user) for user in users]


@router.post("/staff/users/{user_id}/deactivate", response_model=StaffAccountOut,
             responses=USER | REFUSED)
def deactivate_user(user_id: UserId, session: SessionDep, admin: AdminDep) -> StaffAccountOut:
    """Stop a user signing in: ends their sessions and revokes their API keys (admins)."""
    user = staff_service.user_by_id(session=session, user_id=user_id)
    staff_service.deactivate(session=session, actor=admin.audit_actor, user=user)
    session.commit()
    return StaffAccountOut.model_validate(user)


@router.post("/staff/users/{user_id}/reactivate", response_model=StaffAccountOut, responses=USER)
def reactivate_user(user_id: UserId, session: SessionDep, admin: AdminDep) -> StaffAccountOut:
    """Let a deactivated user sign in again; revoked API keys stay revoked (admins)."""
    user = staff_service.user_by_id(session=session, user_id=user_id)
    staff_service.reactivate(session=session, actor=admin.audit_actor, user=user)
    session.commit()
    return StaffAccountOut.model_validate(user)


@router.post("/staff/users/{user_id}/unlock", response_model=StaffAccountOut, responses=USER)
def unlock_user(user_id: UserId, session: SessionDep, admin: AdminDep) -> StaffAccountOut:
    """Lift a lockout after failed sign-ins now (admins)."""
    user = staff_service.user_by_id(session=session, user_id=user_id)
    staff_service.unlock(session=session, actor=admin.audit_actor, user=user)
    session.commit()
    return StaffAccountOut.model_validate(user)


@router.post("/staff/users/{user_id}/password", response_model=PasswordResetOut,
             responses=USER | REFUSED)
def reset_password(user_id: UserId, body: PasswordReset, session: SessionDep,
                   admin: AdminDep) -> PasswordResetOut:
    """Set a temporary password, or generate one (returned once); ends the user's sessions
    and lifts any lockout (admins)."""
    user = staff_service.user_by_id(session=session, user_id=user_id)
    generated = staff_service.reset_password(session=session, actor=admin.audit_actor,
                                             user=user, password=body.password)
    session.commit()
    return PasswordResetOut(generated_password=generated)


@router.get("/staff/api-keys", response_model=list[ApiKeyOut], responses=USER)
def list_api_keys(session: SessionDep, admin: AdminDep,
                  user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
                  ) -> list[ApiKeyOut]:
    """API keys (all, or one user's), newest first, with when each was last used (admins)."""
    user = staff_service.user_by_id(session=session, user_id=user_id) if user_id else None
    keys = staff_service.list_api_keys(session=session, actor=admin.audit_actor,
                                       user=user)
    session.commit()
    return [ApiKeyOut.model_validate(key) for key in keys]


@router.post("/staff/api-keys/{prefix}/revoke", response_model=ApiKeyOut,
             responses=ADMINS | {404: {"model": ErrorOut, "description": "No such API key"}})
def revoke_api_key(prefix: KeyPrefix, session: SessionDep, admin: AdminDep) -> ApiKeyOut:
    """Stop an API key working from now on (admins)."""
    key = staff_service.revoke_api_key(session=session, actor=admin.audit_actor,
                                       prefix=prefix)
    session.commit()
    return ApiKeyOut.model_validate(key)
