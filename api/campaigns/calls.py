"""The call list: patients a campaign could not text, whom staff phone instead, and what came
of each call (kept on the recipient, every call also in the audit log)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.campaigns import content, selection
from api.campaigns.lookup import CampaignError, CampaignNotFound
from api.campaigns.lookup import campaign as _campaign
from api.campaigns.models import CallOutcome, CallReason, CampaignRecipient, RecipientRoute
from api.db import utcnow
from api.patients.models import Patient

REASON_WORDS = {
    CallReason.NO_CONTACT_ROUTE: "No mobile number or email address",
    CallReason.OPTED_OUT: "Opted out of text messages",
    CallReason.COMMUNICATION_NEEDS: "Communication needs: text is not accessible",
    CallReason.NO_REPLY: "No reply to the message or the reminder",
    CallReason.UNDELIVERABLE: "The message could not be delivered",
    CallReason.RESTRICTED_RECORD: "Restricted record in the PAS: staff contact only",
}
OUTCOME_WORDS = {
    CallOutcome.REBOOKED: "Called: rebooked",
    CallOutcome.LEFT_MESSAGE: "Called: left a message",
    CallOutcome.NO_ANSWER: "Called: no answer",
    CallOutcome.WRONG_NUMBER: "Called: wrong number",
    CallOutcome.DECLINED: "Called: no longer wants the appointment",
}


@dataclass(frozen=True)
class CallEntry:
    """One patient to phone: why, and (once called) what came of it."""

    patient: Patient
    reason: CallReason | None
    recipient: CampaignRecipient | None = None  # None before the campaign is sent


def reason_words(reason: CallReason | str | None) -> str:
    return REASON_WORDS.get(CallReason(reason), str(reason)) if reason else "Not recorded"


def preview_call_list(*, session: Session, campaign_id: int) -> list[CallEntry]:
    """Who a send would put on the call list, and why (nothing is written)."""
    campaign = _campaign(session, campaign_id)
    entries = []
    for patient in selection.selected_patients(session, campaign):
        route, _, reason = content.choose_route(
            patient=patient, whatsapp_template=bool(campaign.whatsapp_content_sid))
        if route is RecipientRoute.CALL_LIST:
            entries.append(CallEntry(patient, reason))
    return entries


def call_list(*, session: Session, campaign_id: int) -> list[CallEntry]:
    """The campaign's call list with each patient, in the order they were added."""
    _campaign(session, campaign_id)
    rows = session.execute(
        select(CampaignRecipient, Patient).join(Patient, Patient.id == CampaignRecipient.patient_id)
        .where(CampaignRecipient.campaign_id == campaign_id,
               CampaignRecipient.route == RecipientRoute.CALL_LIST)
        .order_by(CampaignRecipient.id)).all()
    return [CallEntry(patient, recipient.call_reason, recipient) for recipient, patient in rows]


def record_outcome(*, session: Session, campaign_id: int, recipient_id: int,
                   outcome: CallOutcome | str, actor: str) -> CampaignRecipient:
    """Record what came of phoning one call-list patient (audited)."""
    campaign = _campaign(session, campaign_id)
    recipient = session.get(CampaignRecipient, recipient_id)
    if recipient is None or recipient.campaign_id != campaign.id \
            or recipient.route is not RecipientRoute.CALL_LIST:
        raise CampaignNotFound("no such patient on this campaign's call list")
    try:
        outcome = CallOutcome(outcome)
    except ValueError as exc:
        raise CampaignError(f"unknown call outcome; use one of "
                            f"{', '.join(o.value for o in CallOutcome)}") from exc
    recipient.call_outcome, recipient.called_at, recipient.called_by = outcome, utcnow(), actor
    audit_service.record(session=session, actor=actor, action="record_call_outcome",
                         object_type="campaign", object_id=campaign.id,
                         patient_id=recipient.patient_id,
                         details={"outcome": outcome.value, "recipient_id": recipient.id})
    session.flush()
    return recipient
