"""Campaign verbs: create, preview, send (idempotently, in batches), pause, resume, cancel."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.appointments.models import AppointmentStatus, Priority
from api.audit import service as audit_service
from api.campaigns import content, selection
from api.campaigns.lookup import (
    CampaignConflict,
    CampaignError,
    CampaignNotFound,
    NoRecipients,
)
from api.campaigns.lookup import campaign as _campaign
from api.campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientRoute,
)
from api.campaigns.tracking import call_list, finish_if_done, list_with_status, progress
from api.config import Settings
from api.db import utcnow
from api.messaging import outbox, render
from api.messaging.models import Channel, Message, MessageCategory, MessageStatus
from api.reference.models import Site, Specialty
from api.scheduling.models import Disruption

# Where a campaign has got to lives in `tracking`; the CLI, the jobs and the API reach it here.
__all__ = ["BATCH_SIZE", "CampaignConflict", "CampaignError", "CampaignNotFound",
           "NoRecipients", "SendStep", "call_list", "cancel", "create", "finish_if_done", "get",
           "list_campaigns", "list_with_status", "pause", "preview", "progress", "resume",
           "send"]

log = logging.getLogger(__name__)

BATCH_SIZE = 500
ROUTE_CHANNEL = {RecipientRoute.SMS: Channel.SMS, RecipientRoute.WHATSAPP: Channel.WHATSAPP,
                 RecipientRoute.EMAIL: Channel.EMAIL}


def get(*, session: Session, campaign_id: int) -> Campaign:
    """One campaign (LookupError when there is none)."""
    return _campaign(session, campaign_id)


def list_campaigns(*, session: Session) -> list[Campaign]:
    """Every campaign, newest first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc())))


def create(*, session: Session, name: str, disruption_id: int, sms_template: str,
           filters: dict | None = None, email_subject: str = "", email_template: str = "",
           whatsapp_content_sid: str | None = None, whatsapp_variables: dict | None = None,
           chaser_after_hours: int = 48, created_by: str = "system") -> Campaign:
    """Draft a campaign after checking its templates and filters."""
    if session.get(Disruption, disruption_id) is None:
        raise CampaignError(f"no disruption {disruption_id}")
    try:
        content.check_sms_template(sms_template)
        content.check_template(email_template or sms_template)
    except content.ContentError as exc:
        raise CampaignError(str(exc)) from exc
    filters = _checked_filters(session, filters or {})
    if chaser_after_hours < 1:
        raise CampaignError("chaser_after_hours must be at least 1")
    campaign = Campaign(name=name, disruption_id=disruption_id, sms_template=sms_template,
                        filters=filters, email_subject=email_subject,
                        email_template=email_template, whatsapp_content_sid=whatsapp_content_sid,
                        whatsapp_variables=whatsapp_variables or {},
                        chaser_after_hours=chaser_after_hours, created_by=created_by)
    session.add(campaign)
    session.flush()
    _audit(session, created_by, "create_campaign", campaign, (),
           disruption_id=disruption_id, filters=filters)
    return campaign


def _audit(session: Session, actor: str, action: str, campaign: Campaign,
           patient_ids, **details) -> None:
    """Every campaign step is audited, naming the patients whose messages it touched."""
    audit_service.record(session=session, actor=actor, action=action, object_type="campaign",
                         object_id=campaign.id,
                         details={**details, **audit_service.patient_ids_detail(patient_ids)})


def _patients_with_messages(session: Session, campaign_id: int,
                            statuses: tuple[MessageStatus, ...]) -> list[int]:
    """Recipients with a first message or chaser in one of `statuses`."""
    return list(session.scalars(
        select(CampaignRecipient.patient_id).distinct()
        .join(Message, or_(Message.id == CampaignRecipient.message_id,
                           Message.id == CampaignRecipient.chaser_message_id))
        .where(CampaignRecipient.campaign_id == campaign_id, Message.status.in_(statuses))))


def _checked_filters(session: Session, filters: dict) -> dict:
    allowed = {"specialties", "priorities", "sites", "statuses"}
    unknown = set(filters) - allowed
    if unknown:
        raise CampaignError(f"unknown filters {sorted(unknown)}; use {sorted(allowed)}")
    checks: dict[str, tuple[set[str], str]] = {
        "specialties": (set(session.scalars(select(Specialty.code))), "specialty"),
        "sites": (set(session.scalars(select(Site.code))), "site"),
        "priorities": ({p.value for p in Priority}, "priority"),
        "statuses": ({AppointmentStatus.POSTPONED.value, AppointmentStatus.OFFERED.value},
                     "status"),
    }
    for key, values in filters.items():
        known, label = checks[key]
        bad = set(values) - known
        if bad:
            raise CampaignError(f"unknown {label} {sorted(bad)}")
    return {k: sorted(v) for k, v in filters.items() if v}


def _message_text(campaign: Campaign, route: RecipientRoute, settings: Settings) -> str:
    template = campaign.email_template if route is RecipientRoute.EMAIL and \
        campaign.email_template else campaign.sms_template
    return content.render(template, settings=settings)


def preview(*, session: Session, campaign_id: int, settings: Settings) -> dict:
    """Counts per route and call-list reason, and each route's rendered message."""
    campaign = _campaign(session, campaign_id)
    routes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for patient in selection.selected_patients(session, campaign):
        route, _, reason = content.choose_route(
            patient=patient, whatsapp_template=bool(campaign.whatsapp_content_sid))
        routes[route.value] += 1
        if reason:
            reasons[reason.value] += 1
    sms = render.render_sms(_message_text(campaign, RecipientRoute.SMS, settings))
    return {
        "campaign_id": campaign.id,
        "appointments": len(selection.selected_appointments(session=session,
                                                            campaign=campaign)),
        "patients": sum(routes.values()),
        "by_route": {r.value: routes.get(r.value, 0) for r in RecipientRoute},
        "call_list_reasons": dict(reasons),
        "messages": {
            "sms": {"body": sms, "segments": render.sms_segments(sms)},
            "whatsapp": {"content_sid": campaign.whatsapp_content_sid,
                         "variables": campaign.whatsapp_variables},
            "email": {"subject": campaign.email_subject or settings.trust_name,
                      "body": _message_text(campaign, RecipientRoute.EMAIL, settings)},
        },
    }


def _insert_recipients(session: Session, rows: list[dict]) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(CampaignRecipient).values(rows).on_conflict_do_nothing(
        index_elements=["campaign_id", "patient_id"]))


def _sendable(session: Session, campaign_id: int) -> Campaign:
    """The campaign, if it may be sent; refused when it is over or paused."""
    campaign = _campaign(session, campaign_id)
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        raise CampaignConflict(f"campaign {campaign_id} is {campaign.status.value}")
    if campaign.status is CampaignStatus.PAUSED:
        raise CampaignConflict("the campaign is paused; resume it instead")
    return campaign


def _enrol_recipients(session: Session, campaign: Campaign, batch_size: int) -> list[int]:
    """Make every selected patient a recipient (once, whatever runs before); the selected
    patients' ids."""
    rows = []
    for patient in selection.selected_patients(session, campaign):
        route, address, reason = content.choose_route(
            patient=patient, whatsapp_template=bool(campaign.whatsapp_content_sid))
        rows.append({"campaign_id": campaign.id, "patient_id": patient.id, "route": route,
                     "address": address, "call_reason": reason, "created_at": utcnow()})
    for start in range(0, len(rows), batch_size):
        _insert_recipients(session, rows[start:start + batch_size])
    return [row["patient_id"] for row in rows]


def _unqueued_recipients(session: Session, campaign: Campaign) -> list[CampaignRecipient]:
    """Recipients to be written to whose message is not in the outbox yet, in order."""
    return list(session.scalars(
        select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id,
                                        CampaignRecipient.route != RecipientRoute.CALL_LIST,
                                        CampaignRecipient.message_id.is_(None))
        .order_by(CampaignRecipient.id)))


def _queue_for(session: Session, settings: Settings, campaign: Campaign,
               recipient: CampaignRecipient, send_at: datetime) -> Message:
    """The recipient's message on their route, keyed so it is never queued twice (unflushed)."""
    whatsapp = recipient.route is RecipientRoute.WHATSAPP
    return outbox.queue_message(
        session=session, settings=settings, channel=ROUTE_CHANNEL[recipient.route],
        to_address=recipient.address,
        text=_message_text(campaign, recipient.route, settings),
        category=MessageCategory.NOTIFICATION, patient_id=recipient.patient_id,
        idempotency_key=f"campaign:{campaign.id}:patient:{recipient.patient_id}",
        content_sid=campaign.whatsapp_content_sid if whatsapp else None,
        content_variables=(campaign.whatsapp_variables or None) if whatsapp else None,
        subject=(campaign.email_subject or settings.trust_name)
        if recipient.route is RecipientRoute.EMAIL else None,
        send_at=send_at, flush=False)


def _queue_batch(session: Session, settings: Settings, campaign: Campaign,
                 batch: list[CampaignRecipient], send_at: datetime) -> None:
    """Queue one batch of recipients' messages and mark the recipients queued (flushed)."""
    messages = [_queue_for(session, settings, campaign, recipient, send_at)
                for recipient in batch]
    session.flush()
    for recipient, message in zip(batch, messages, strict=True):
        recipient.message_id = message.id
        recipient.queued_at = utcnow()
    session.flush()


@dataclass(frozen=True)
class SendStep:
    """How far a send has gone: `queued` of the `total` messages this run queues."""

    queued: int
    total: int


def send(*, session: Session, campaign_id: int, settings: Settings,
         batch_size: int = BATCH_SIZE, actor: str = "system",
         refuse_empty: bool = False) -> Iterator[SendStep]:
    """Put every selected patient's message in the outbox, batch by batch.

    A generator: the caller (the campaigns view, the CLI) commits at every step it yields
    (the recipients enrolled, then each batch of messages, then the audit), so a large send
    keeps its progress and holds no long transaction; nothing is written after the last step.
    The service itself never commits. Safe to run again after a crash or to resume: a
    patient is a recipient once per campaign and each message has an idempotency key, so
    nothing is ever queued twice. The last step's `queued` is how many were queued.
    With `refuse_empty` (the console, the API) a campaign that selects nobody is refused
    (NoRecipients) instead of "sent" to nobody; the CLI asks for --yes itself.
    """
    campaign = _sendable(session, campaign_id)
    patient_ids = _enrol_recipients(session, campaign, batch_size)
    if refuse_empty and not patient_ids \
            and not progress(session=session, campaign_id=campaign_id)["recipients"]:
        # Refused before anything changed, rather than "sent" to nobody.
        raise NoRecipients("nobody to send to: no postponed appointment of this disruption "
                           "matches the campaign's filters, so nothing was sent")
    campaign.status = CampaignStatus.SENDING
    campaign.started_at = campaign.started_at or utcnow()
    pending = _unqueued_recipients(session, campaign)
    total, queued = len(pending), 0
    yield SendStep(queued, total)
    send_at = outbox.next_send_time(settings=settings)
    for start in range(0, total, batch_size):
        batch = pending[start:start + batch_size]
        _queue_batch(session, settings, campaign, batch, send_at)
        queued += len(batch)
        yield SendStep(queued, total)
    _audit(session, actor, "send_campaign", campaign, patient_ids, queued=queued)
    session.flush()
    log.info("campaign queued", extra={"campaign_id": campaign.id, "queued": queued})
    yield SendStep(queued, total)


def _campaign_message_ids(session: Session, campaign_id: int) -> list[int]:
    rows = session.execute(select(CampaignRecipient.message_id, CampaignRecipient.chaser_message_id)
                           .where(CampaignRecipient.campaign_id == campaign_id)).all()
    return [m for row in rows for m in row if m is not None]


def _set_message_status(session: Session, ids: list[int], from_status: MessageStatus,
                        to_status: MessageStatus, send_at: datetime | None = None) -> int:
    changed = 0
    for start in range(0, len(ids), 900):
        values = {"status": to_status}
        if send_at is not None:
            values["next_attempt_at"] = send_at
        changed += session.execute(
            update(Message).where(Message.id.in_(ids[start:start + 900]),
                                  Message.status == from_status).values(**values)).rowcount
    return changed


def pause(*, session: Session, campaign_id: int, actor: str = "system") -> int:
    """Hold every unsent message of the campaign; how many were held."""
    campaign = _campaign(session, campaign_id)
    if campaign.status is not CampaignStatus.SENDING:
        raise CampaignConflict(
            f"only a sending campaign can be paused (it is {campaign.status.value})")
    campaign.status = CampaignStatus.PAUSED
    patients = _patients_with_messages(session, campaign_id, (MessageStatus.QUEUED,))
    held = _set_message_status(session, _campaign_message_ids(session, campaign_id),
                               MessageStatus.QUEUED, MessageStatus.HELD)
    _audit(session, actor, "pause_campaign", campaign, patients, held=held)
    return held


def resume(*, session: Session, campaign_id: int, settings: Settings,
           actor: str = "system") -> int:
    """Release a paused campaign's held messages (inside the send window); how many."""
    campaign = _campaign(session, campaign_id)
    if campaign.status is not CampaignStatus.PAUSED:
        raise CampaignConflict(
            f"only a paused campaign can be resumed (it is {campaign.status.value})")
    campaign.status = CampaignStatus.SENDING
    patients = _patients_with_messages(session, campaign_id, (MessageStatus.HELD,))
    released = _set_message_status(session, _campaign_message_ids(session, campaign_id),
                                   MessageStatus.HELD, MessageStatus.QUEUED,
                                   send_at=outbox.next_send_time(settings=settings))
    _audit(session, actor, "resume_campaign", campaign, patients, released=released)
    return released


def cancel(*, session: Session, campaign_id: int, actor: str = "system") -> int:
    """Withdraw every unsent message; messages already sent stay sent. How many withdrawn."""
    campaign = _campaign(session, campaign_id)
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        raise CampaignConflict(f"campaign {campaign_id} is already {campaign.status.value}")
    campaign.status = CampaignStatus.CANCELLED
    campaign.finished_at = utcnow()
    patients = _patients_with_messages(session, campaign_id,
                                       (MessageStatus.QUEUED, MessageStatus.HELD))
    ids = _campaign_message_ids(session, campaign_id)
    withdrawn = (_set_message_status(session, ids, MessageStatus.QUEUED, MessageStatus.CANCELLED)
                 + _set_message_status(session, ids, MessageStatus.HELD, MessageStatus.CANCELLED))
    _audit(session, actor, "cancel_campaign", campaign, patients, withdrawn=withdrawn)
    return withdrawn
