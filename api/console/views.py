"""The staff web console: thin routes over the handover, audit and staff services.

Pages are server-rendered; every form POST carries the session's CSRF token; every page that
shows patient data and every action is written to the audit log by the services it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse

from api.audit import service as audit_service
from api.campaigns import service as campaigns_service
from api.console import service as console_service
from api.console.pages import (
    DONE_MESSAGES,
    ConsoleDep,
    FormUserDep,
    render,
    safe_next,
    set_cookie,
)
from api.db import read_only_session
from api.deps import SessionDep, SettingsDep, reads_only
from api.flows import booking as booking_flow
from api.flows import case_file as case_file_flow
from api.flows import hand_back as hand_back_flow
from api.flows import staff_reply as staff_reply_flow
from api.handover import casework
from api.handover.models import HandoverReason, HandoverStatus
from api.reporting import service as reporting_service
from api.scheduling.errors import SchedulingError
from api.staff import auth as staff_auth
from api.staff import service as staff_service
from api.staff.models import Role
from api.system import client_address

HERE = Path(__file__).parent
router = APIRouter(prefix="/console", include_in_schema=False)
STATIC_FILES = {"console.css": "text/css", "console.js": "text/javascript"}
# --- sign in --------------------------------------------------------------------------------


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


# --- the queue ------------------------------------------------------------------------------


@router.get("", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/console/queue", status.HTTP_303_SEE_OTHER)


def _queue_context(session, settings, console) -> dict:
    rows = console_service.queue_rows(session=session, settings=settings)
    audit_service.record(session=session, actor=console[0].audit_actor,
                         action="view_queue", object_type="handover_queue", object_id="*",
                         details={"count": len(rows), **audit_service.patient_ids_detail(
                             row["handover"].patient_id for row in rows)})
    session.commit()
    return {"rows": rows, "user": console[0], "csrf_token": console[1].csrf,
            "reasons": list(HandoverReason)}


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, settings: SettingsDep,
               console: ConsoleDep) -> HTMLResponse:
    return render(request, "queue.html", _queue_context(session, settings, console))


@router.get("/queue/rows", response_class=HTMLResponse)
def queue_rows(request: Request, session: SessionDep, settings: SettingsDep,
               console: ConsoleDep) -> HTMLResponse:
    return render(request, "_queue_rows.html", _queue_context(session, settings, console))


@router.get("/queue/events")
@reads_only
async def queue_events(request: Request, session: SessionDep, settings: SettingsDep,
                       console: ConsoleDep) -> StreamingResponse:
    # The request's session only signed the user in: end its transaction now, or it would
    # stay open (on SQLite: hold the write lock) for as long as the stream runs.
    session.close()
    stream = console_service.queue_events(settings=settings, session_factory=read_only_session,
                                          is_disconnected=request.is_disconnected)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# --- one handover ---------------------------------------------------------------------------


def _handover_page(request: Request, session, settings, console, handover_id: int,
                   done: str = "", error: str = "", status_code: int = 200) -> HTMLResponse:
    session.rollback()  # a refused action leaves nothing half-done behind
    try:
        handover = casework.get(session=session, handover_id=handover_id)
    except casework.NotFound:
        return render(request, "error.html", {"user": console[0], "csrf_token": console[1].csrf,
                                             "message": "There is no such handover."}, 404)
    case = case_file_flow.case_file(session=session, handover=handover, user=console[0])
    session.commit()
    return render(request, "handover.html", case | {
        "user": console[0], "csrf_token": console[1].csrf, "settings": settings,
        "done": DONE_MESSAGES.get(done, ""), "error": error,
        "statuses": [s for s in HandoverStatus if s is not HandoverStatus.RESOLVED],
        "local_time": lambda m: console_service.local_time(m, settings),
    }, status_code)


@router.get("/handovers/{handover_id}", response_class=HTMLResponse)
def handover_page(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
                  console: ConsoleDep, done: str = "") -> HTMLResponse:
    return _handover_page(request, session, settings, console, handover_id, done=done)


def _act(request, session, settings, console, handover_id: int,
         done: str | Callable[[Any], str], action):
    """Run one action on a handover; back to its page, with what happened or why not.

    `done` is the code of what happened, or a function of the action's result giving it."""
    try:
        handover = casework.get(session=session, handover_id=handover_id)
    except casework.NotFound:
        return _handover_page(request, session, settings, console, handover_id)
    try:
        outcome = action(handover)
        session.commit()
    except (casework.HandoverError, SchedulingError) as exc:
        return _handover_page(request, session, settings, console, handover_id,
                              error=str(exc), status_code=getattr(exc, "status_code", 400))
    console_service.notify_queue_changed(settings=settings)
    code = done(outcome) if callable(done) else done
    return RedirectResponse(f"/console/handovers/{handover_id}?done={code}",
                            status.HTTP_303_SEE_OTHER)


@router.post("/handovers/{handover_id}/claim")
def claim(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
          console: FormUserDep):
    return _act(request, session, settings, console, handover_id, "claimed",
                lambda h: casework.claim(session=session, handover=h, user=console[0]))


@router.post("/handovers/{handover_id}/status")
def set_status(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
               console: FormUserDep, new_status: Annotated[str, Form(alias="status")] = ""):
    def action(h):
        try:
            chosen = HandoverStatus(new_status)
        except ValueError as exc:
            raise casework.HandoverError("choose a status") from exc
        casework.set_status(session=session, handover=h, user=console[0], status=chosen)

    return _act(request, session, settings, console, handover_id, "status", action)


@router.post("/handovers/{handover_id}/notes")
def add_note(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
             console: FormUserDep, text: Annotated[str, Form(max_length=4000)] = ""):
    return _act(request, session, settings, console, handover_id, "note",
                lambda h: casework.add_note(session=session, handover=h,
                                            user=console[0], text=text))


@router.post("/handovers/{handover_id}/reply")
def reply(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
          console: FormUserDep, text: Annotated[str, Form(max_length=4000)] = "",
          template: Annotated[str, Form(max_length=64)] = ""):
    return _act(request, session, settings, console, handover_id, "reply",
                lambda h: staff_reply_flow.reply(session=session, settings=settings,
                                                 handover=h, user=console[0],
                                                 text=text or None, template=template or None))


@router.post("/handovers/{handover_id}/slots")
def find_slots(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
               console: FormUserDep, appointment_id: Annotated[int, Form()] = 0):
    return _act(request, session, settings, console, handover_id, "slots",
                lambda h: casework.find_slots(session=session, handover=h,
                                              user=console[0],
                                              appointment_id=appointment_id))


@router.post("/handovers/{handover_id}/book")
def book(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
         console: FormUserDep, offer_id: Annotated[int, Form()] = 0):
    return _act(request, session, settings, console, handover_id,
                lambda booking: "booked" if booking.message else "booked_untold",
                lambda h: booking_flow.book_for_handover(session=session, settings=settings,
                                                         handover=h, user=console[0],
                                                         offer_id=offer_id))


@router.post("/handovers/{handover_id}/resolve")
def resolve(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
            console: FormUserDep, outcome: Annotated[str, Form()] = "",
            note: Annotated[str, Form(max_length=4000)] = ""):
    def action(h):
        if outcome not in ("hand_back", "close"):
            raise casework.HandoverError("choose: hand back to the assistant, or close")
        hand_back_flow.resolve(session=session, handover=h, user=console[0],
                               hand_back=outcome == "hand_back", note=note)

    return _act(request, session, settings, console, handover_id, "resolved", action)


# --- the audit log (admins) -----------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, settings: SettingsDep, console: ConsoleDep,
               patient_id: int | None = None, before_id: int | None = None) -> HTMLResponse:
    user = console[0]
    if user.role is not Role.ADMIN:
        audit_service.record(session=session, actor=user.audit_actor,
                             action="audit_denied", object_type="audit_event", object_id="*")
        session.commit()
        return render(request, "error.html", {
            "user": user, "csrf_token": console[1].csrf,
            "message": "Only admins can read the audit log."}, 403)
    events = audit_service.list_events(session=session, limit=100, before_id=before_id,
                                       patient_id=patient_id)
    audit_service.record(session=session, actor=user.audit_actor,
                         action="view_audit", object_type="audit_event", object_id="*",
                         patient_id=patient_id)
    session.commit()
    return render(request, "audit.html", {
        "user": user, "csrf_token": console[1].csrf, "events": events,
        "patient_id": patient_id,
        "local_time": lambda m: console_service.local_time(m, settings)})


# --- dashboard and campaigns ----------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, session: SessionDep, console: ConsoleDep,
                   disruption: int | None = None) -> HTMLResponse:
    disruptions = reporting_service.disruptions(session=session)
    context = {"user": console[0], "csrf_token": console[1].csrf, "disruptions": disruptions}
    if disruptions:
        chosen = disruption or disruptions[0]["id"]
        try:
            report = reporting_service.disruption_report(session=session, disruption_id=chosen)
        except LookupError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such disruption") from exc
        breaches = reporting_service.breaches(session=session, disruption_id=chosen)
        context |= {"report": report, "breaches": breaches,
                    **console_service.dashboard_charts(report)}
        audit_service.record(session=session, actor=console[0].audit_actor,
                             action="view_dashboard", object_type="disruption", object_id=chosen,
                             details=audit_service.patient_ids_detail(
                                 b["patient_id"] for b in breaches))
        session.commit()
    return render(request, "dashboard.html", context)


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, session: SessionDep, settings: SettingsDep,
                   console: ConsoleDep) -> HTMLResponse:
    return render(request, "campaigns.html", {
        "user": console[0], "csrf_token": console[1].csrf,
        "campaigns": campaigns_service.list_campaigns(session=session),
        "local_time": lambda moment: console_service.local_time(moment, settings)})


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: int, session: SessionDep,
                  console: ConsoleDep) -> HTMLResponse:
    try:
        progress = campaigns_service.progress(session=session, campaign_id=campaign_id)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such campaign") from exc
    campaign = campaigns_service.get(session=session, campaign_id=campaign_id)
    return render(request, "campaign.html", {
        "user": console[0], "csrf_token": console[1].csrf, "campaign": campaign,
        "progress": progress, "progress_chart": console_service.progress_chart(progress)})
