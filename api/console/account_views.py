"""Console pages for accounts: your own password, and (admins) every staff account and API key.

Thin routes over api.staff.service and api.staff.auth, which audit every step.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi import Path as FastApiPath
from fastapi.responses import HTMLResponse, RedirectResponse

from api.audit import service as audit_service
from api.console import service as console_service
from api.console.pages import DONE_MESSAGES, ConsoleDep, FormUserDep, render, set_cookie
from api.deps import SessionDep, SettingsDep
from api.staff import auth as staff_auth
from api.staff import service as staff_service
from api.staff.models import Role
from api.system import client_address

router = APIRouter(prefix="/console", include_in_schema=False)


# --- your account: change your own password -------------------------------------------------


def _account_page(request: Request, console, done: str = "", error: str = "",
                  status_code: int = 200) -> HTMLResponse:
    return render(request, "account.html", {
        "user": console[0], "csrf_token": console[1].csrf, "done": DONE_MESSAGES.get(done, ""),
        "error": error, "min_length": staff_service.MIN_PASSWORD_LENGTH}, status_code)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, console: ConsoleDep, done: str = "") -> HTMLResponse:
    return _account_page(request, console, done=done)


@router.post("/account/password")
def change_password(request: Request, session: SessionDep, settings: SettingsDep,
                    console: FormUserDep,
                    current_password: Annotated[str, Form(max_length=256)] = "",
                    new_password: Annotated[str, Form(max_length=256)] = "",
                    confirm_password: Annotated[str, Form(max_length=256)] = ""):
    user = console[0]
    if new_password != confirm_password:
        return _account_page(request, console, error="The new passwords do not match.",
                             status_code=400)
    try:
        staff_auth.change_own_password(
            session=session, settings=settings, user=user, current_password=current_password,
            new_password=new_password,
            address=client_address.of_request(request,
                                              forwarded_allow_ips=settings.forwarded_allow_ips))
    except (staff_service.StaffError, staff_auth.LoginRefused) as exc:
        session.commit()  # a refused attempt is audited
        return _account_page(request, console, error=str(exc), status_code=exc.status_code)
    session.commit()
    # Every session ended with the old password; this browser carries on in a new one.
    response = RedirectResponse("/console/account?done=password", status.HTTP_303_SEE_OTHER)
    set_cookie(request, settings, response, staff_auth.SESSION_COOKIE,
                staff_auth.issue_session(settings=settings, user=user),
                staff_auth.SESSION_MAX_AGE)
    return response


# --- staff accounts (admins) ----------------------------------------------------------------


def _staff_page(request: Request, session, settings, console, done: str = "", error: str = "",
                generated: tuple[str, str] | None = None, status_code: int = 200):
    user = console[0]
    session.rollback()  # a refused action leaves nothing half-done behind
    if user.role is not Role.ADMIN:
        audit_service.record(session=session, actor=user.audit_actor,
                             action="staff_accounts_denied", object_type="staff_user",
                             object_id="*")
        session.commit()
        return render(request, "error.html", {
            "user": user, "csrf_token": console[1].csrf,
            "message": "Only admins can manage staff accounts."}, 403)
    actor = user.audit_actor
    users = staff_service.list_users(session=session, actor=actor)
    keys = staff_service.list_api_keys(session=session, actor=actor)
    session.commit()
    return render(request, "staff.html", {
        "user": user, "csrf_token": console[1].csrf, "users": users, "keys": keys,
        "usernames": {u.id: u.username for u in users},
        "is_locked": lambda u: staff_service.is_locked(user=u),
        "done": DONE_MESSAGES.get(done, ""), "error": error, "generated": generated,
        "min_length": staff_service.MIN_PASSWORD_LENGTH,
        "local_time": lambda m: console_service.local_time(m, settings) if m else "-"},
        status_code)


@router.get("/staff", response_class=HTMLResponse)
def staff_page(request: Request, session: SessionDep, settings: SettingsDep,
               console: ConsoleDep, done: str = "") -> HTMLResponse:
    return _staff_page(request, session, settings, console, done=done)


def _admin_act(request, session, settings, console, done: str, action):
    """Run one account action as an admin; back to the staff page, with what happened."""
    if console[0].role is not Role.ADMIN:
        return _staff_page(request, session, settings, console)
    try:
        result = action(console[0].audit_actor)
        session.commit()
    except staff_service.StaffError as exc:
        return _staff_page(request, session, settings, console, error=str(exc),
                           status_code=exc.status_code)
    if isinstance(result, tuple):  # a generated password: shown on this answer, never again
        return _staff_page(request, session, settings, console, generated=result)
    return RedirectResponse(f"/console/staff?done={done}", status.HTTP_303_SEE_OTHER)


StaffUserId = Annotated[int, FastApiPath(ge=1, le=2**31 - 1)]


@router.post("/staff/{user_id}/deactivate")
def deactivate_user(request: Request, user_id: StaffUserId, session: SessionDep,
                    settings: SettingsDep, console: FormUserDep):
    return _admin_act(request, session, settings, console, "deactivated",
                      lambda actor: staff_service.deactivate(
                          session=session, actor=actor,
                          user=staff_service.user_by_id(session=session, user_id=user_id)))


@router.post("/staff/{user_id}/reactivate")
def reactivate_user(request: Request, user_id: StaffUserId, session: SessionDep,
                    settings: SettingsDep, console: FormUserDep):
    return _admin_act(request, session, settings, console, "reactivated",
                      lambda actor: staff_service.reactivate(
                          session=session, actor=actor,
                          user=staff_service.user_by_id(session=session, user_id=user_id)))


@router.post("/staff/{user_id}/unlock")
def unlock_user(request: Request, user_id: StaffUserId, session: SessionDep,
                settings: SettingsDep, console: FormUserDep):
    return _admin_act(request, session, settings, console, "unlocked",
                      lambda actor: staff_service.unlock(
                          session=session, actor=actor,
                          user=staff_service.user_by_id(session=session, user_id=user_id)))


@router.post("/staff/{user_id}/password")
def reset_password(request: Request, user_id: StaffUserId, session: SessionDep,
                   settings: SettingsDep, console: FormUserDep,
                   password: Annotated[str, Form(max_length=256)] = ""):
    def action(actor):
        target = staff_service.user_by_id(session=session, user_id=user_id)
        generated = staff_service.reset_password(session=session, actor=actor, user=target,
                                                 password=password or None)
        return (target.username, generated) if generated else None

    return _admin_act(request, session, settings, console, "reset", action)


@router.post("/staff/api-keys/{prefix}/revoke")
def revoke_api_key(request: Request, session: SessionDep, settings: SettingsDep,
                   console: FormUserDep,
                   prefix: Annotated[str, FastApiPath(pattern=r"^[0-9a-f]{1,16}$")]):
    return _admin_act(request, session, settings, console, "revoked",
                      lambda actor: staff_service.revoke_api_key(session=session, actor=actor,
                                                                 prefix=prefix))
