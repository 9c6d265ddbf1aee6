"""Campaign pages."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from api.campaigns import service as campaigns_service
from api.console import service as console_service
from api.console.pages import ConsoleDep, render
from api.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/console", include_in_schema=False)


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
