"""Where a campaign has got to: its counts, its true status and its call list.

A campaign's stored status says "completed" only once the scheduler's periodic job has
written it down (every 30 s, and never while the scheduler is stopped), so every reader asks
`status_of`, which applies the job's own rule to the messages themselves: list, page, API and
job then always agree.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentStatus
from api.campaigns.lookup import campaign as _campaign
from api.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientRoute
from api.db import utcnow
from api.messaging.models import Message, MessageStatus

# A first message in one of these has not left the outbox yet.
WAITING = (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.HELD)


def still_to_go(session: Session, campaign_id: int) -> int:
    """Messages the campaign has still to send: recipients a send under way has not queued
    yet, plus first messages waiting in the outbox. (Counting only the outbox, as the job once
    did, marked a large campaign completed between its batches.)"""
    unqueued = session.scalar(select(func.count()).select_from(CampaignRecipient).where(
        CampaignRecipient.campaign_id == campaign_id,
        CampaignRecipient.route != RecipientRoute.CALL_LIST,
        CampaignRecipient.message_id.is_(None)))
    waiting = session.scalar(
        select(func.count()).select_from(CampaignRecipient)
        .join(Message, Message.id == CampaignRecipient.message_id)
        .where(CampaignRecipient.campaign_id == campaign_id, Message.status.in_(WAITING)))
    return int(unqueued or 0) + int(waiting or 0)


def status_of(session: Session, campaign: Campaign) -> CampaignStatus:
    """The campaign's true status: a sending campaign with nothing left to go is completed,
    whether or not the scheduler has recorded it yet."""
    if campaign.status is CampaignStatus.SENDING and not still_to_go(session, campaign.id):
        return CampaignStatus.COMPLETED
    return campaign.status


def finish_if_done(*, session: Session, campaign_id: int) -> bool:
    """Record a sending campaign as completed once nothing of it is left to send."""
    campaign = _campaign(session, campaign_id)
    if campaign.status is not CampaignStatus.SENDING:
        return False
    if status_of(session, campaign) is not CampaignStatus.COMPLETED:
        return False
    campaign.status = CampaignStatus.COMPLETED
    campaign.finished_at = utcnow()
    return True


def _count(session: Session, campaign_id: int, *conditions) -> int:
    return int(session.scalar(select(func.count()).select_from(CampaignRecipient).where(
        CampaignRecipient.campaign_id == campaign_id, *conditions)) or 0)


def progress(*, session: Session, campaign_id: int) -> dict:
    """Where every patient of the campaign has got to."""
    campaign = _campaign(session, campaign_id)
    statuses = Counter(dict(session.execute(
        select(Message.status, func.count())
        .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .group_by(Message.status)).all()))
    rebooked = session.scalar(
        select(func.count(func.distinct(CampaignRecipient.patient_id)))
        .join(Appointment, Appointment.patient_id == CampaignRecipient.patient_id)
        .where(CampaignRecipient.campaign_id == campaign_id,
               Appointment.disruption_id == campaign.disruption_id,
               Appointment.status == AppointmentStatus.REBOOKED))
    sent = sum(statuses[s] for s in (MessageStatus.SENT, MessageStatus.DELIVERED,
                                     MessageStatus.READ, MessageStatus.UNDELIVERED))
    return {
        "campaign_id": campaign.id,
        "status": status_of(session, campaign).value,
        "recipients": _count(session, campaign_id),
        "queued": sum(statuses[s] for s in WAITING),
        "sent": sent,
        "delivered": statuses[MessageStatus.DELIVERED] + statuses[MessageStatus.READ],
        "failed": statuses[MessageStatus.FAILED] + statuses[MessageStatus.UNDELIVERED]
        + statuses[MessageStatus.PARKED],
        "cancelled": statuses[MessageStatus.CANCELLED],
        "replied": _count(session, campaign_id, CampaignRecipient.replied_at.is_not(None)),
        "rebooked": rebooked,
        "call_list": _count(session, campaign_id,
                            CampaignRecipient.route == RecipientRoute.CALL_LIST),
    }


def call_list(*, session: Session, campaign_id: int) -> list[CampaignRecipient]:
    """Patients staff must phone, and why."""
    return list(session.scalars(select(CampaignRecipient).where(
        CampaignRecipient.campaign_id == campaign_id,
        CampaignRecipient.route == RecipientRoute.CALL_LIST).order_by(CampaignRecipient.id)))


def list_with_status(*, session: Session) -> list[tuple[Campaign, CampaignStatus]]:
    """Every campaign, newest first, each with its true status."""
    campaigns = session.scalars(select(Campaign).order_by(Campaign.id.desc()))
    return [(campaign, status_of(session, campaign)) for campaign in campaigns]
