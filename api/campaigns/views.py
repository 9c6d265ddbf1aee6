"""Staff JSON API for campaigns."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from api.audit import service as audit_service
from api.campaigns import service as campaigns_service
from api.campaigns.models import CAMPAIGN_ROLES, Campaign
from api.campaigns.schemas import (
    CallListEntry,
    CampaignCreate,
    CampaignOut,
    CampaignPreview,
    CampaignProgress,
)
from api.deps import SessionDep, SettingsDep, reads_only, require_role
from api.errors import STAFF_ERRORS, error_responses
from api.fields import IdPath
from api.staff.models import StaffUser

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"], responses=STAFF_ERRORS)
CampaignStaff = Depends(require_role(*CAMPAIGN_ROLES))


def _or_404(session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such campaign")
    return campaign


@router.post("", response_model=CampaignOut, status_code=201)
def create_campaign(payload: CampaignCreate, session: SessionDep,
                    user: StaffUser = CampaignStaff) -> Campaign:
    """Draft a campaign for a disruption (templates are checked; nothing is sent)."""
    # A refusal (CampaignError: 422, or 409 for the campaign's state) answers through the one
    # error handler (api/errors.py).
    campaign = campaigns_service.create(session=session, created_by=user.audit_actor,
                                        **payload.model_dump())
    session.commit()
    return campaign


@router.get("", response_model=list[CampaignOut])
@reads_only
def list_campaigns(session: SessionDep, user: StaffUser = CampaignStaff) -> list[CampaignOut]:
    """Every campaign, newest first, each with its true status."""
    return [CampaignOut.model_validate(campaign).model_copy(update={"status": status})
            for campaign, status in campaigns_service.list_with_status(session=session)]


@router.get("/{campaign_id}/preview", response_model=CampaignPreview,
            responses=error_responses(404))
def preview_campaign(campaign_id: IdPath, session: SessionDep, settings: SettingsDep,
                     user: StaffUser = CampaignStaff) -> dict:
    """Counts per channel and the rendered messages, before anything is sent."""
    _or_404(session, campaign_id)
    return campaigns_service.preview(session=session, campaign_id=campaign_id, settings=settings)


@router.post("/{campaign_id}/send", response_model=CampaignProgress,
             responses=error_responses(404, 409))
def send_campaign(campaign_id: IdPath, session: SessionDep, settings: SettingsDep,
                  user: StaffUser = CampaignStaff) -> dict:
    """Queue the campaign's messages (idempotent: sending again queues nothing twice). A
    campaign whose filters select nobody is refused (409) rather than sent to nobody."""
    _or_404(session, campaign_id)
    for _step in campaigns_service.send(session=session, campaign_id=campaign_id,
                                        settings=settings, actor=user.audit_actor,
                                        refuse_empty=True):
        session.commit()  # per batch: a large send keeps its progress (see service.send)
    return campaigns_service.progress(session=session, campaign_id=campaign_id)


def _act(session, campaign_id: int, action) -> dict:
    """Run a state change on one campaign and answer with its progress."""
    _or_404(session, campaign_id)
    action()
    session.commit()
    return campaigns_service.progress(session=session, campaign_id=campaign_id)


@router.post("/{campaign_id}/pause", response_model=CampaignProgress,
             responses=error_responses(404, 409))
def pause_campaign(campaign_id: IdPath, session: SessionDep,
                   user: StaffUser = CampaignStaff) -> dict:
    """Hold every unsent message."""
    return _act(session, campaign_id,
                lambda: campaigns_service.pause(session=session, campaign_id=campaign_id,
                                                actor=user.audit_actor))


@router.post("/{campaign_id}/resume", response_model=CampaignProgress,
             responses=error_responses(404, 409))
def resume_campaign(campaign_id: IdPath, session: SessionDep, settings: SettingsDep,
                    user: StaffUser = CampaignStaff) -> dict:
    """Release held messages (inside the send window)."""
    return _act(session, campaign_id, lambda: campaigns_service.resume(
        session=session, campaign_id=campaign_id, settings=settings,
        actor=user.audit_actor))


@router.post("/{campaign_id}/cancel", response_model=CampaignProgress,
             responses=error_responses(404, 409))
def cancel_campaign(campaign_id: IdPath, session: SessionDep,
                    user: StaffUser = CampaignStaff) -> dict:
    """Withdraw every unsent message."""
    return _act(session, campaign_id,
                lambda: campaigns_service.cancel(session=session, campaign_id=campaign_id,
                                                 actor=user.audit_actor))


@router.get("/{campaign_id}/progress", response_model=CampaignProgress,
            responses=error_responses(404))
@reads_only
def campaign_progress(campaign_id: IdPath, session: SessionDep,
                      user: StaffUser = CampaignStaff) -> dict:
    """Queued, sent, delivered, failed, replied, rebooked and call-list counts."""
    _or_404(session, campaign_id)
    return campaigns_service.progress(session=session, campaign_id=campaign_id)


@router.get("/{campaign_id}/call-list", response_model=list[CallListEntry],
            responses=error_responses(404))
def campaign_call_list(campaign_id: IdPath, session: SessionDep,
                       user: StaffUser = CampaignStaff) -> list[dict]:
    """Patients to phone instead of text, and why. Reading it is audited with their ids."""
    campaign = _or_404(session, campaign_id)
    rows = campaigns_service.call_list(session=session, campaign_id=campaign_id)
    audit_service.record(session=session, actor=user.audit_actor,
                         action="view_call_list", object_type="campaign", object_id=campaign.id,
                         details=audit_service.patient_ids_detail(r.patient_id for r in rows))
    session.commit()
    return [{"patient_id": r.patient_id, "reason": r.call_reason.value if r.call_reason else None}
            for r in rows]
