"""Signing in and out of the console, its home address and its static files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api.audit import service as audit_service
from api.console.pages import FormUserDep, render, safe_next, set_cookie
from api.deps import SessionDep, SettingsDep
from api.staff import auth as staff_auth
from api.staff import service as staff_service
from api.system import client_address

HERE = Path(__file__).parent
router = APIRouter(prefix="/console", include_in_schema=False)
STATIC_FILES = {"console.css": "text/css", "console.js": "text/javascript",
                "campaigns.js": "text/javascript"}


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return FileResponse(HERE / "static" / name, media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "max-age=300"})


def _login_page(request: Request, settings, error: str = "", username: str = "",
                next_url: str = "", status_code: int = 200) -> HTMLResponse:
    cookie, token = staff_auth.issue_login_csrf(settings=settings)
    response = render(request, "login.html", {"csrf_token": token, "error": error,
                                             "username": username, "next": next_url,
                                             "oidc": settings.oidc_enabled, "user": None},
                     status_code)
    set_cookie(request, settings, response, staff_auth.LOGIN_CSRF_COOKIE, cookie, 3600,
                "/console/login")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "") -> HTMLResponse:
    return _login_page(request, settings, next_url=safe_next(next))


@router.post("/login")
def login(request: Request, session: SessionDep, settings: SettingsDep,
          username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=256)] = "",
          csrf_token: Annotated[str, Form(max_length=100)] = "",
          next: Annotated[str, Form(max_length=300)] = ""):
    if not staff_auth.login_csrf_ok(settings=settings, token=csrf_token,
                                    cookie=request.cookies.get(staff_auth.LOGIN_CSRF_COOKIE)):
        return _login_page(request, settings, "The form expired. Please try again.", username,
                           safe_next(next), 403)
    address = client_address.of_request(request, forwarded_allow_ips=settings.forwarded_allow_ips)
    try:
        user = staff_auth.login(session=session, settings=settings, username=username,
                                password=password, address=address)
    except staff_auth.LoginRefused as exc:
        session.commit()  # failed attempts and lockouts must stick
        return _login_page(request, settings, str(exc), username, safe_next(next),
                           exc.status_code)
    session.commit()
    response = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    set_cookie(request, settings, response, staff_auth.SESSION_COOKIE,
                staff_auth.issue_session(settings=settings, user=user),
                staff_auth.SESSION_MAX_AGE)
    response.delete_cookie(staff_auth.LOGIN_CSRF_COOKIE, path="/console/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, console: FormUserDep):
    staff_service.end_sessions(user=console[0])
    audit_service.record(session=session, actor=console[0].audit_actor,
                         action="logout", object_type="staff_user", object_id=console[0].id)
    session.commit()
    response = RedirectResponse("/console/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(staff_auth.SESSION_COOKIE, path="/")
    return response
