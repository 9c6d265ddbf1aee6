"""The hospital's PAS in the console: how the connection is doing (every staff role), and the
integration exceptions (the role PAS_EXCEPTIONS_ROLE names, and admins): the list, one
exception with its raw message, and resolving it with a note. The exceptions hold raw patient
records: every read of the list or of one exception is audited, and so is a refusal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from api.appointments.models import Appointment
from api.audit import service as audit_service
from api.console import service as console_service
from api.console.pages import ConsoleDep, FormUserDep, render
from api.deps import SessionDep, SettingsDep
from api.handover.models import Handover, HandoverStatus
from api.integration import exceptions
from api.integration.models import ExceptionStatus
from api.integration.status import counts_text, duration_text, integration_status
from api.patients.models import Patient
from api.scheduling.errors import Conflict
from api.staff.models import Role, StaffUser

router = APIRouter(prefix="/console", include_in_schema=False)
SHOWN = {"open": ExceptionStatus.OPEN, "resolved": ExceptionStatus.RESOLVED, "all": None}


def may_see_exceptions(user: StaffUser, settings) -> bool:
    """Admins, and the role the trust chose (PAS_EXCEPTIONS_ROLE)."""
    return user.role is Role.ADMIN or user.role.value == settings.pas_exceptions_role


def _refused(request: Request, session, settings, console) -> HTMLResponse:
    user = console[0]
    audit_service.record(session=session, actor=user.audit_actor,
                         action="integration_exceptions_denied",
                         object_type="integration_exception", object_id="*")
    session.commit()
    who = "admins" if settings.pas_exceptions_role == "admin" else \
        f"{settings.pas_exceptions_role}s and admins"
    return render(request, "error.html", {
        "user": user, "csrf_token": console[1].csrf, "title": "Integration exceptions",
        "message": f"Only {who} can open the integration exceptions: they hold patients' "
                   "records as the hospital's system sent them."}, 403)


@router.get("/integration", response_class=HTMLResponse)
def integration_page(request: Request, session: SessionDep, settings: SettingsDep,
                     console: ConsoleDep) -> HTMLResponse:
    found = integration_status(session=session, settings=settings)
    session.commit()
    hours = []  # every adapter's traffic per hour, newest first
    for index in range(len(found.adapters[0].inbound_hours) if found.adapters else 0):
        counts_in, counts_out = {}, {}
        for adapter in found.adapters:
            for name, count in adapter.inbound_hours[index].counts.items():
                counts_in[name] = counts_in.get(name, 0) + count
            for name, count in adapter.writeback_hours[index].counts.items():
                counts_out[name] = counts_out.get(name, 0) + count
        hours.append({"start": found.adapters[0].inbound_hours[index].start,
                      "in": counts_text(dict(sorted(counts_in.items()))),
                      "out": counts_text(dict(sorted(counts_out.items())))})
    return render(request, "integration.html", {
        "user": console[0], "csrf_token": console[1].csrf, "status": found,
        "hours": hours[::-1], "reasons": exceptions.REASONS,
        "may_see": may_see_exceptions(console[0], settings),
        "counts": counts_text, "duration": duration_text,
        "local_time": lambda m: console_service.local_time(m, settings)})


@router.get("/integration/exceptions", response_class=HTMLResponse)
def exceptions_page(request: Request, session: SessionDep, settings: SettingsDep,
                    console: ConsoleDep, show: str = "open", reason: str = "",
                    done: str = "") -> HTMLResponse:
    user = console[0]
    if not may_see_exceptions(user, settings):
        return _refused(request, session, settings, console)
    show = show if show in SHOWN else "open"
    reason = reason if reason in exceptions.REASONS else ""
    rows = exceptions.list_viewed(session=session, actor=user.audit_actor, status=SHOWN[show],
                                  reason=reason or None)
    patient_ids = {r.patient_id for r in rows if r.patient_id}
    patients = {p.id: p for p in session.scalars(
        select(Patient).where(Patient.id.in_(patient_ids)))} if patient_ids else {}
    session.commit()
    return render(request, "integration_exceptions.html", {
        "user": user, "csrf_token": console[1].csrf, "rows": rows, "patients": patients,
        "show": show, "reason": reason, "reasons": exceptions.REASONS,
        "done": "Exception resolved." if done == "resolved" else "",
        "local_time": lambda m: console_service.local_time(m, settings)})


def _detail(request: Request, session, settings, console, exception_id: int, *,
            error: str = "", note: str = "", status_code: int = 200) -> HTMLResponse:
    user = console[0]
    row = exceptions.view(session=session, exception_id=exception_id, actor=user.audit_actor)
    patient = session.get(Patient, row.patient_id) if row.patient_id else None
    appointment = session.get(Appointment, row.appointment_id) if row.appointment_id else None
    cases = list(session.scalars(select(Handover).where(
        Handover.patient_id == row.patient_id, Handover.status != HandoverStatus.RESOLVED)
        .order_by(Handover.id.desc()).limit(10))) if row.patient_id else []
    resolver = session.get(StaffUser, row.resolved_by) if row.resolved_by else None
    session.commit()
    return render(request, "integration_exception.html", {
        "user": user, "csrf_token": console[1].csrf, "row": row, "patient": patient,
        "appointment": appointment, "cases": cases, "resolver": resolver,
        "reason_text": exceptions.REASONS.get(row.reason, ""), "error": error, "note": note,
        "local_time": lambda m: console_service.local_time(m, settings)}, status_code)


@router.get("/integration/exceptions/{exception_id}", response_class=HTMLResponse)
def exception_page(request: Request, exception_id: int, session: SessionDep,
                   settings: SettingsDep, console: ConsoleDep) -> HTMLResponse:
    if not may_see_exceptions(console[0], settings):
        return _refused(request, session, settings, console)
    return _detail(request, session, settings, console, exception_id)


@router.post("/integration/exceptions/{exception_id}/resolve")
def resolve(request: Request, exception_id: int, session: SessionDep, settings: SettingsDep,
            console: FormUserDep, note: Annotated[str, Form(max_length=2000)] = ""):
    user = console[0]
    if not may_see_exceptions(user, settings):
        return _refused(request, session, settings, console)
    try:
        exceptions.resolve(session=session, exception_id=exception_id,
                           actor=user.audit_actor, staff_id=user.id, resolution=note)
        session.commit()
    except Conflict as exc:
        session.rollback()
        return _detail(request, session, settings, console, exception_id, error=str(exc),
                       note=note, status_code=exc.status_code)
    return RedirectResponse("/console/integration/exceptions?done=resolved",
                            status.HTTP_303_SEE_OTHER)
