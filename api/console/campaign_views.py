"""Campaign list, the create form and the preview: thin routes over the campaigns service.

Only the roles the campaigns API allows may create or preview (api/campaigns/models.py
CAMPAIGN_ROLES); every form POST carries the CSRF token; the preview shows patients' names
(the call list), so reading it is audited with their ids.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.audit import service as audit_service
from api.campaigns import calls
from api.campaigns import service as campaigns_service
from api.console import campaign_pages
from api.console import service as console_service
from api.console.pages import ConsoleDep, FormUserDep, render
from api.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, session: SessionDep, settings: SettingsDep,
                   console: ConsoleDep) -> HTMLResponse:
    return render(request, "campaigns.html", {
        "user": console[0], "csrf_token": console[1].csrf,
        "may_run": campaign_pages.may_run_campaigns(console[0]),
        "campaigns": campaigns_service.list_with_status(session=session),
        "local_time": lambda moment: console_service.local_time(moment, settings)})


def _form_page(request: Request, session, settings, console, values: dict,
               problems: list[tuple[str, str]] = (), status_code: int = 200) -> HTMLResponse:
    return render(request, "campaign_new.html", campaign_pages.form_choices(session, settings) | {
        "user": console[0], "csrf_token": console[1].csrf, "values": values,
        "problems": list(problems), "invalid": {field for field, _ in problems}}, status_code)


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_campaign_page(request: Request, session: SessionDep, settings: SettingsDep,
                      console: ConsoleDep) -> HTMLResponse:
    if not campaign_pages.may_run_campaigns(console[0]):
        return campaign_pages.refused(request, console)
    return _form_page(request, session, settings, console, campaign_pages.blank_form())


@router.post("/campaigns", response_class=HTMLResponse)
async def create_campaign(request: Request, session: SessionDep, settings: SettingsDep,
                          console: FormUserDep):
    if not campaign_pages.may_run_campaigns(console[0]):
        return campaign_pages.refused(request, console)
    values = campaign_pages.form_values(await request.form())
    payload, problems = campaign_pages.checked_payload(values)
    if payload is not None:
        try:
            campaign = campaigns_service.create(session=session,
                                                created_by=console[0].audit_actor, **payload)
        except campaigns_service.CampaignError as exc:
            session.rollback()
            problems = [("", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")]
        else:
            session.commit()
            return RedirectResponse(f"/console/campaigns/{campaign.id}/preview",
                                    status.HTTP_303_SEE_OTHER)
    return _form_page(request, session, settings, console, values, problems, 422)


@router.get("/campaigns/{campaign_id:int}/preview", response_class=HTMLResponse)
def preview_page(request: Request, campaign_id: int, session: SessionDep, settings: SettingsDep,
                 console: ConsoleDep) -> HTMLResponse:
    if not campaign_pages.may_run_campaigns(console[0]):
        return campaign_pages.refused(request, console)
    try:
        campaign = campaigns_service.get(session=session, campaign_id=campaign_id)
    except LookupError:
        return render(request, "error.html", {"user": console[0], "csrf_token": console[1].csrf,
                                             "message": "There is no such campaign."}, 404)
    preview = campaigns_service.preview(session=session, campaign_id=campaign_id,
                                        settings=settings)
    to_call = calls.preview_call_list(session=session, campaign_id=campaign_id)
    audit_service.record(session=session, actor=console[0].audit_actor, action="preview_campaign",
                         object_type="campaign", object_id=campaign.id,
                         details=audit_service.patient_ids_detail(e.patient.id for e in to_call))
    session.commit()
    return render(request, "campaign_preview.html", {
        "user": console[0], "csrf_token": console[1].csrf, "campaign": campaign,
        "preview": preview, "cost": campaign_pages.cost(preview), "to_call": to_call,
        "reason_words": calls.reason_words,
        "status": campaigns_service.progress(session=session,
                                             campaign_id=campaign_id)["status"]})
