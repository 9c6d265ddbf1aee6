"""The audit log page (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.audit import service as audit_service
from api.console import service as console_service
from api.console.pages import ConsoleDep, render
from api.deps import SessionDep, SettingsDep
from api.staff.models import Role

router = APIRouter(prefix="/console", include_in_schema=False)


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
