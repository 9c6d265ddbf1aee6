"""The clinicians' daily list of red flags a clerk marked "not a red flag" (clinicians and
admins): each shows the flagged case, who lowered it and why; a clinician confirms it or
reopens it as an urgent red flag. Reading the list and each decision are audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.audit import service as audit_service
from api.console import service as console_service
from api.console.pages import ConsoleDep, FormUserDep, render
from api.deps import SessionDep, SettingsDep
from api.handover import casework, red_flags
from api.patients.models import Patient
from api.staff.models import StaffUser

router = APIRouter(prefix="/console", include_in_schema=False)
DONE = {"confirmed": "Confirmed: not a red flag.",
        "reopened": "Reopened as an urgent red flag: it is back at the top of the queue."}


def _refused(request: Request, session, console) -> HTMLResponse:
    user = console[0]
    audit_service.record(session=session, actor=user.audit_actor, action="red_flag_reviews_denied",
                         object_type="red_flag_review", object_id="*")
    session.commit()
    return render(request, "error.html", {
        "user": user, "csrf_token": console[1].csrf,
        "message": "Only clinicians and admins review lowered red flags."}, 403)


@router.get("/red-flag-reviews", response_class=HTMLResponse)
def reviews_page(request: Request, session: SessionDep, settings: SettingsDep,
                 console: ConsoleDep, done: str = "", error: str = "",
                 status_code: int = 200) -> HTMLResponse:
    user = console[0]
    if user.role not in casework.CLINICAL_ROLES:
        return _refused(request, session, console)
    rows = [{"review": review, "handover": handover,
             "patient": session.get(Patient, handover.patient_id) if handover.patient_id else None,
             "lowered_by": session.get(StaffUser, review.lowered_by)}
            for review, handover in red_flags.pending(session=session)]
    audit_service.record(session=session, actor=user.audit_actor, action="view_red_flag_reviews",
                         object_type="red_flag_review", object_id="*",
                         details={"count": len(rows)})
    session.commit()
    return render(request, "red_flag_reviews.html", {
        "user": user, "csrf_token": console[1].csrf, "rows": rows,
        "done": DONE.get(done, ""), "error": error,
        "local_time": lambda m: console_service.local_time(m, settings)}, status_code)


@router.post("/red-flag-reviews/{review_id}")
def decide(request: Request, review_id: int, session: SessionDep, settings: SettingsDep,
           console: FormUserDep, decision: Annotated[str, Form(max_length=16)] = "",
           note: Annotated[str, Form(max_length=4000)] = ""):
    user = console[0]
    if user.role not in casework.CLINICAL_ROLES:
        return _refused(request, session, console)
    try:
        if decision == "confirm":
            red_flags.confirm(session=session, review_id=review_id, user=user, note=note)
        elif decision == "reopen":
            red_flags.reopen(session=session, review_id=review_id, user=user, note=note)
        else:
            raise casework.HandoverError("choose: confirm, or reopen as a red flag")
        session.commit()
    except casework.HandoverError as exc:
        session.rollback()
        return reviews_page(request, session, settings, console, error=str(exc),
                            status_code=exc.status_code)
    console_service.notify_queue_changed(settings=settings)
    code = "confirmed" if decision == "confirm" else "reopened"
    return RedirectResponse(f"/console/red-flag-reviews?done={code}", status.HTTP_303_SEE_OTHER)
