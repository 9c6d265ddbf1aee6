"""A campaign's status page, its live progress fragment (polled by campaigns.js, so the page
never reloads) and the send, pause, resume and cancel buttons.

The buttons are for the roles the campaigns API allows; the service audits every one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.campaigns import service as campaigns_service
from api.console import campaign_pages
from api.console.pages import ConsoleDep, FormUserDep, render
from api.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/console", include_in_schema=False)
ACTIONS = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}


def _context(session, settings, console, campaign_id: int) -> dict | None:
    try:
        campaign = campaigns_service.get(session=session, campaign_id=campaign_id)
    except LookupError:
        return None
    progress = campaigns_service.progress(session=session, campaign_id=campaign_id)
    return {"user": console[0], "csrf_token": console[1].csrf, "campaign": campaign,
            "progress": progress, "window_note": campaign_pages.window_note(progress, settings),
            "may_run": campaign_pages.may_run_campaigns(console[0])}


def _status_page(request: Request, session, settings, console, campaign_id: int,
                 done: str = "", error: str = "", status_code: int = 200) -> HTMLResponse:
    context = _context(session, settings, console, campaign_id)
    if context is None:
        return render(request, "error.html", {"user": console[0], "csrf_token": console[1].csrf,
                                             "message": "There is no such campaign."}, 404)
    return render(request, "campaign.html", context | {
        "done": campaign_pages.DONE.get(done, ""), "error": error}, status_code)


@router.get("/campaigns/{campaign_id:int}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: int, session: SessionDep,
                  settings: SettingsDep, console: ConsoleDep, done: str = "") -> HTMLResponse:
    return _status_page(request, session, settings, console, campaign_id, done=done)


@router.get("/campaigns/{campaign_id:int}/live", response_class=HTMLResponse)
def campaign_live(request: Request, campaign_id: int, session: SessionDep,
                  settings: SettingsDep, console: ConsoleDep) -> HTMLResponse:
    """The progress block alone, for the status page to poll."""
    context = _context(session, settings, console, campaign_id)
    if context is None:
        return HTMLResponse("", status.HTTP_404_NOT_FOUND)
    return render(request, "_campaign_progress.html", context)


def _act(request: Request, session, settings, console, campaign_id: int, done: str, action):
    """Run one campaign verb; back to the status page with what happened, or why not."""
    if not campaign_pages.may_run_campaigns(console[0]):
        return campaign_pages.refused(request, console)
    try:
        campaigns_service.get(session=session, campaign_id=campaign_id)
        action()
    except LookupError:
        return _status_page(request, session, settings, console, campaign_id)
    except campaigns_service.CampaignError as exc:
        session.rollback()  # a refused send leaves the campaign as it was
        message = str(exc)
        return _status_page(request, session, settings, console, campaign_id,
                            error=message[:1].upper() + message[1:] + ".",
                            status_code=exc.status_code)
    session.commit()
    return RedirectResponse(f"/console/campaigns/{campaign_id}?done={done}",
                            status.HTTP_303_SEE_OTHER)


@router.post("/campaigns/{campaign_id:int}/send")
def send_campaign(request: Request, campaign_id: int, session: SessionDep,
                  settings: SettingsDep, console: FormUserDep):
    def send() -> None:
        for _step in campaigns_service.send(session=session, campaign_id=campaign_id,
                                            settings=settings, actor=console[0].audit_actor,
                                            refuse_empty=True):
            session.commit()  # per batch, as the API does: a large send keeps its progress
    return _act(request, session, settings, console, campaign_id, "sent", send)


@router.post("/campaigns/{campaign_id:int}/{verb}")
def change_campaign(request: Request, campaign_id: int, verb: str, session: SessionDep,
                    settings: SettingsDep, console: FormUserDep):
    if verb not in ACTIONS:
        return render(request, "error.html", {"user": console[0], "csrf_token": console[1].csrf,
                                             "message": "There is no such campaign action."},
                      404)
    actor = console[0].audit_actor
    verbs = {
        "pause": lambda: campaigns_service.pause(session=session, campaign_id=campaign_id,
                                                 actor=actor),
        "resume": lambda: campaigns_service.resume(session=session, campaign_id=campaign_id,
                                                   settings=settings, actor=actor),
        "cancel": lambda: campaigns_service.cancel(session=session, campaign_id=campaign_id,
                                                   actor=actor),
    }
    return _act(request, session, settings, console, campaign_id, ACTIONS[verb], verbs[verb])
