"""What every console page shares: rendering with the console's headers, cookies, the signed-in
staff member (and their CSRF-checked forms), and where a sign-in may send the browser next."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.appointments import priorities
from api.config import Settings
from api.deps import SessionDep, SettingsDep
from api.staff import auth as staff_auth
from api.staff.auth import ConsoleSession
from api.staff.models import Role, StaffUser

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
# One vocabulary for priorities on every page: {{ appointment.priority | priority_label }}.
templates.env.filters["priority_label"] = priorities.label
# What a successful action says on the page it returns to (codes, so no text is reflected).
DONE_MESSAGES = {
    "claimed": "You have claimed this handover.",
    "status": "Status updated.",
    "note": "Note added.",
    "reply": "Reply queued: it is sent on the patient's channel.",
    "slots": "Slots held for the patient. Offer them, then book the one they choose.",
    "booked": "Appointment booked. The patient's confirmation is queued on their channel.",
    "booked_awaiting_pas": "Appointment booked in Rebook and sent to the hospital's PAS. The "
                           "patient is texted the confirmation once the PAS accepts it.",
    "booked_untold": "Appointment booked. The patient cannot be sent a text message: please "
                     "tell them the new date.",
    "resolved": "Handover resolved.",
    "password": "Your password is changed. Every other session of yours has ended.",
    "deactivated": "Account deactivated: its sessions ended and its API keys are revoked.",
    "reactivated": "Account reactivated.",
    "unlocked": "Account unlocked.",
    "reset": "Temporary password set. Every session of that account has ended.",
    "revoked": "API key revoked.",
    "acknowledged": "On-call alert acknowledged: it is not repeated.",
}

WORK_ROLES = (Role.CLERK, Role.CLINICIAN, Role.ADMIN)


def signed_in_staff(request: Request, session: SessionDep,
                    settings: SettingsDep) -> tuple[StaffUser, ConsoleSession]:
    found = staff_auth.read_session(session=session, settings=settings,
                                    cookie=request.cookies.get(staff_auth.SESSION_COOKIE))
    if found is None:
        if request.method == "GET":
            raise HTTPException(status.HTTP_303_SEE_OTHER, headers={
                "Location": f"/console/login?next={quote(request.url.path)}"})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="sign in first")
    if found[0].role not in WORK_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="your role cannot use the console")
    # An error page later in this request shows the same navigation (api/console/error_pages.py).
    request.state.console_nav = nav_snapshot(*found)
    return found


def nav_snapshot(user: StaffUser, console: ConsoleSession) -> SimpleNamespace:
    """What the page's navigation shows of a staff member, copied while their row is loaded."""
    return SimpleNamespace(display_name=user.display_name, role=user.role, csrf=console.csrf)


ConsoleDep = Annotated[tuple[StaffUser, ConsoleSession], Depends(signed_in_staff)]


async def csrf_checked_form(request: Request,
                            console: ConsoleDep) -> tuple[StaffUser, ConsoleSession]:
    form = await request.form()
    if not staff_auth.csrf_matches(console[1].csrf, str(form.get("csrf_token") or "")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="the form expired: reload the page")
    return console


FormUserDep = Annotated[tuple[StaffUser, ConsoleSession], Depends(csrf_checked_form)]


def render(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'")
    return response


def set_cookie(request: Request, settings: Settings, response, key: str, value: str,
               max_age: int, path: str = "/") -> None:
    # Secure in production whatever the scheme says: behind a TLS-terminating proxy that is
    # not in FORWARDED_ALLOW_IPS the request looks like plain http, and the cookie must still
    # never travel without TLS.
    secure = settings.environment == "production" or request.url.scheme == "https"
    response.set_cookie(key, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=secure, path=path)


def safe_next(target: str | None) -> str:
    # Only our own console pages: never an open redirect.
    if target and target.startswith("/console/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return "/console/queue"
