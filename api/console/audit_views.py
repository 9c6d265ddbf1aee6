"""The audit log page (admins only): filtered by patient (NHS number), staff member, action and
dates, a page at a time, with names and readable details instead of codes."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api.audit import service as audit_service
from api.console import audit_text
from api.console import service as console_service
from api.console.pages import ConsoleDep, render
from api.console.paging import Page
from api.deps import SessionDep, SettingsDep
from api.patients.identifiers import InvalidIdentifier, normalise_nhs_number
from api.patients.models import Patient
from api.staff import names as staff_names
from api.staff.models import Role
from api.system import localtime

router = APIRouter(prefix="/console", include_in_schema=False)
EVENTS_PER_PAGE = 50


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(session, settings, *, nhs_number: str, staff: str, action: str, date_from: str,
             date_to: str, patient_id: int | None) -> tuple[dict, list[str]]:
    """The service's filters from the form's fields, and what the form could not use."""
    problems, filters = [], {}
    if nhs_number.strip():
        try:
            number = normalise_nhs_number(nhs_number)
            found = session.scalar(select(Patient.id).where(Patient.nhs_number == number))
            # An unknown number still filters (to nothing): the log outlives patients.
            filters["patient_id"] = found if found is not None else -1
        except InvalidIdentifier as exc:
            # Never widen a search for one patient to everyone's events.
            filters["patient_id"] = -1
            problems.append(f"NHS number: {exc}. No events are shown until it is corrected.")
    elif patient_id is not None:
        filters["patient_id"] = patient_id
    if staff:
        filters["actor"] = staff
    if action:
        filters["action"] = action
    start, end = _day(date_from), _day(date_to)
    if date_from and start is None or date_to and end is None:
        problems.append("Dates: use the date picker, or write them as 2027-01-31.")
    if start:
        filters["since"] = localtime.local_midnight(start, settings)
    if end:
        filters["until"] = localtime.local_midnight(end + timedelta(days=1), settings)
    return filters, problems


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, settings: SettingsDep, console: ConsoleDep,
               nhs_number: str = "", staff: str = "", action: str = "", date_from: str = "",
               date_to: str = "", page: int | None = None,
               patient_id: int | None = None) -> HTMLResponse:
    user = console[0]
    if user.role is not Role.ADMIN:
        audit_service.record(session=session, actor=user.audit_actor,
                             action="audit_denied", object_type="audit_event", object_id="*")
        session.commit()
        return render(request, "error.html", {
            "user": user, "csrf_token": console[1].csrf,
            "message": "Only admins can read the audit log."}, 403)
    form = {"nhs_number": nhs_number, "staff": staff, "action": action,
            "date_from": date_from, "date_to": date_to}
    filters, problems = _filters(session, settings, patient_id=patient_id, **form)
    pager = Page.of(total=audit_service.count_events(session=session, **filters), number=page,
                    size=EVENTS_PER_PAGE, params=form)
    events = audit_service.list_events(session=session, limit=pager.size, offset=pager.offset,
                                       **filters)
    audit_service.record_log_read(session=session, actor=user.audit_actor,
                                  patient_id=max(filters.get("patient_id") or 0, 0) or None)
    session.commit()
    return render(request, "audit.html", {
        "user": user, "csrf_token": console[1].csrf, "events": _rows(session, events),
        "form": form, "problems": problems, "pager": pager,
        "staff_choices": staff_names.staff_choices(session=session),
        "action_choices": [(a, audit_text.action_text(a))
                           for a in audit_service.actions(session=session)],
        "local_time": lambda m: console_service.local_time(m, settings)})


def _rows(session, events) -> list[dict]:
    """Each event with its actor's name, its patient and its details in words."""
    names = staff_names.display_names(session=session, actors=(e.actor for e in events))
    patient_ids = {e.patient_id for e in events if e.patient_id}
    patients = {p.id: p for p in session.scalars(
        select(Patient).where(Patient.id.in_(patient_ids)))} if patient_ids else {}
    return [{"event": e, "who": names[e.actor], "what": audit_text.action_text(e.action),
             "object": audit_text.object_text(e.object_type, e.object_id),
             "object_link": (f"/console/handovers/{e.object_id}"
                             if e.object_type == "handover" and e.object_id.isdigit() else None),
             "patient": patients.get(e.patient_id),
             "details": audit_text.detail_items(e.details)} for e in events]
