"""After the first message: notice replies, chase the silent once, remind before the date."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import texts
from api.appointments.models import Appointment, AppointmentStatus
from api.campaigns.models import (
    CallReason,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientRoute,
)
from api.campaigns.service import ROUTE_CHANNEL
from api.config import Settings
from api.db import utcnow
from api.messaging import outbox
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.patients.models import Patient
from api.reference.models import Site
from api.scheduling.models import Slot
from api.system import localtime

log = logging.getLogger(__name__)

REMINDER_DAYS_BEFORE = 3
CHASER_TEXT = texts.template("campaign_chaser")
DELIVERED_OR_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)


def record_replies(*, session: Session) -> int:
    """Mark recipients who have written back since their message was queued."""
    marked = 0
    waiting = session.scalars(select(CampaignRecipient).where(
        CampaignRecipient.replied_at.is_(None), CampaignRecipient.queued_at.is_not(None)))
    for recipient in waiting:
        first_reply = session.scalar(select(func.min(Message.created_at)).where(
            Message.direction == Direction.INBOUND,
            Message.from_address == recipient.address,
            Message.created_at >= recipient.queued_at))
        if first_reply is not None:
            recipient.replied_at = first_reply
            marked += 1
    return marked


def send_chasers(*, session: Session, settings: Settings, now: datetime | None = None) -> int:
    """One reminder to each recipient silent for chaser_after_hours; then the call list."""
    now = now or utcnow()
    chased = 0
    rows = session.execute(
        select(CampaignRecipient, Campaign, Message.status)
        .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
        .join(Message, Message.id == CampaignRecipient.message_id)
        .where(Campaign.status.in_([CampaignStatus.SENDING, CampaignStatus.COMPLETED]),
               CampaignRecipient.replied_at.is_(None),
               CampaignRecipient.route != RecipientRoute.CALL_LIST)
    ).all()
    for recipient, campaign, status in rows:
        if recipient.chased_at is None:
            if status not in DELIVERED_OR_SENT or recipient.queued_at is None:
                continue
            if now - recipient.queued_at < timedelta(hours=campaign.chaser_after_hours):
                continue
            message = outbox.queue_message(
                session=session, settings=settings, channel=ROUTE_CHANNEL[recipient.route],
                to_address=recipient.address,
                text=CHASER_TEXT.format(trust_name=settings.trust_name,
                                        bookings_phone=settings.bookings_phone),
                category=MessageCategory.CHASER, patient_id=recipient.patient_id,
                idempotency_key=f"campaign:{campaign.id}:patient:{recipient.patient_id}:chaser",
                content_sid=campaign.whatsapp_content_sid
                if recipient.route is RecipientRoute.WHATSAPP else None,
                subject=settings.trust_name if recipient.route is RecipientRoute.EMAIL else None,
                send_at=outbox.next_send_time(settings=settings, now=now))
            recipient.chaser_message_id = message.id
            recipient.chased_at = now
            chased += 1
        elif now - recipient.chased_at >= timedelta(hours=campaign.call_after_chaser_hours):
            recipient.route = RecipientRoute.CALL_LIST
            recipient.call_reason = CallReason.NO_REPLY
    return chased


def _when(slot: Slot, settings: Settings) -> str:
    local = localtime.to_local(slot.start_at, settings)
    hour = local.strftime("%I:%M%p").lstrip("0").lower().replace(":00", "")
    return f"{local.strftime('%a %d %b').replace(' 0', ' ')}, {hour}"


def send_reminders(*, session: Session, settings: Settings, now: datetime | None = None,
                   days_before: int = REMINDER_DAYS_BEFORE) -> int:
    """Remind patients of a rebooked appointment a few days before it, once per date."""
    now = now or utcnow()
    rows = session.execute(
        select(Appointment, Slot, Patient, Site)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Site, Site.id == Slot.site_id)
        .where(Appointment.status == AppointmentStatus.REBOOKED,
               Slot.start_at > now, Slot.start_at <= now + timedelta(days=days_before))
    ).all()
    reminded = 0
    for appointment, slot, patient, site in rows:
        if patient.opted_out or not patient.text_is_accessible or not patient.mobile:
            continue
        key = f"reminder:appointment:{appointment.id}:slot:{slot.id}"
        if session.scalar(select(Message.id).where(Message.idempotency_key == key)):
            continue
        # Date, time and place only: no specialty or name, as the phone may be shared.
        outbox.queue_message(
            session=session, settings=settings, channel=Channel.SMS, to_address=patient.mobile,
            text=texts.text("campaign_reminder", trust_name=settings.trust_name,
                            when=_when(slot, settings), site=site.name,
                            phone=settings.bookings_phone),
            category=MessageCategory.REMINDER, patient_id=patient.id, idempotency_key=key,
            send_at=outbox.next_send_time(settings=settings, now=now))
        reminded += 1
    return reminded
