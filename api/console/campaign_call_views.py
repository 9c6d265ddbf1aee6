"""A campaign's call list: the patients it could not text, why, and what came of each call.

Reading it shows names and numbers, so it is audited with the patients' ids; recording an
outcome is audited by the service. Only the roles that run campaigns see or change it.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.audit import service as audit_service
from api.campaigns import calls
from api.campaigns import service as campaigns_service
from api.campaigns.models import CallOutcome
from api.console import campaign_pages
from api.console import service as console_service
from api.console.pages import ConsoleDep, FormUserDep, render
from api.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/console", include_in_schema=False)


def _missing(request: Request, console) -> HTMLResponse:
    return render(request, "error.html", {"user": console[0], "csrf_token": console[1].csrf,
                                         "message": "There is no such campaign."}, 404)


@router.get("/campaigns/{campaign_id:int}/calls", response_class=HTMLResponse)
def call_list_page(request: Request, campaign_id: int, session: SessionDep,
                   settings: SettingsDep, console: ConsoleDep,
                   done: str = "") -> HTMLResponse:
    if not campaign_pages.may_run_campaigns(console[0]):
        return campaign_pages.refused(request, console)
    try:
        campaign = campaigns_service.get(session=session, campaign_id=campaign_id)
    except LookupError:
        return _missing(request, console)
    entries = calls.call_list(session=session, campaign_id=campaign_id)
    audit_service.record(session=session, actor=console[0].audit_actor, action="view_call_list",
                         object_type="campaign", object_id=campaign.id,
                         details=audit_service.patient_ids_detail(e.patient.id for e in entries))
    session.commit()
    return render(request, "campaign_calls.html", {
        "user": console[0], "csrf_token": console[1].csrf, "campaign": campaign,
        "entries": entries, "reason_words": calls.reason_words,
        "outcomes": calls.OUTCOME_WORDS, "done": done == "recorded",
        "local_time": lambda moment: console_service.local_time(moment, settings)})


@router.post("/campaigns/{campaign_id:int}/calls/{recipient_id:int}")
def record_call(request: Request, campaign_id: int, recipient_id: int, session: SessionDep,
                console: FormUserDep, outcome: str = Form("")):
    if not campaign_pages.may_run_campaigns(console[0]):
        return campaign_pages.refused(request, console)
    if outcome not in {o.value for o in CallOutcome}:
        return render(request, "error.html", {
            "user": console[0], "csrf_token": console[1].csrf,
            "message": "Choose what came of the call."}, 422)
    try:
        calls.record_outcome(session=session, campaign_id=campaign_id,
                             recipient_id=recipient_id, outcome=outcome,
                             actor=console[0].audit_actor)
    except LookupError:
        return _missing(request, console)
    session.commit()
    return RedirectResponse(f"/console/campaigns/{campaign_id}/calls?done=recorded"
                            f"#call-{recipient_id}", status.HTTP_303_SEE_OTHER)
