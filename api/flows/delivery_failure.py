"""A message that could not be delivered: followed up so that no patient is left unreached.

A WhatsApp message that failed goes again by SMS; an SMS that failed puts the patient on the
bookings team's call-back list; a safety net that failed opens an urgent call-back at once
(and goes by SMS too if it was WhatsApp). A number that said STOP is respected.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from api.config import Settings
from api.conversations import service as conversations_service
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.messaging import delivery, numbers, outbox
from api.messaging.delivery import LOCAL_OPTED_OUT, PARKED_BY_DAILY_CAP
from api.messaging.models import Channel, Message, MessageCategory

log = logging.getLogger(__name__)

# The number opted out (locally or at the carrier: 21610 SMS, 63014 WhatsApp): respecting
# it is the right outcome for everything but the safety net.
OPTED_OUT_CODES = frozenset({LOCAL_OPTED_OUT, 63014})


def follow_up(*, session: Session, settings: Settings, failed: Message) -> int:
    """Follow one failed delivery up, once (1), or nothing if another worker did (0)."""
    if not delivery.mark_failure_handled(session=session, message_id=failed.id):
        return 0
    if failed.category is MessageCategory.STAFF_ALERT:
        # To the on-call contact, not a patient: no call-back list. The alert repeats until
        # someone acknowledges it (api.handover.on_call), so the next one may get through.
        log.error("on-call alert not delivered", extra={"message_id": failed.id,
                                                        "error": failed.error_code})
        return 1
    if failed.category is MessageCategory.SAFETY_NET:
        # Whatever the reason, someone phones the patient now; a WhatsApp one also goes
        # again by SMS (a WhatsApp block is not an SMS opt-out).
        _safety_net_undelivered(session, settings, failed)
        if failed.channel is Channel.WHATSAPP:
            _resend_by_sms(session, settings, failed)
        return 1
    if failed.error_code in OPTED_OUT_CODES:
        return 1  # the patient said STOP: respecting it is the right outcome
    # Over the daily cap SMS would be refused too: the same number, the same cap.
    if failed.channel is Channel.WHATSAPP and failed.parked_reason != PARKED_BY_DAILY_CAP:
        _resend_by_sms(session, settings, failed)
        return 1
    add_to_call_list(session=session, settings=settings, failed=failed)
    return 1


def _resend_by_sms(session: Session, settings: Settings, failed: Message) -> None:
    outbox.queue_message(
        session=session, settings=settings, channel=Channel.SMS,
        to_address=numbers.bare_number(failed.to_address),
        text=failed.body, buttons=failed.buttons, category=failed.category,
        conversation_id=failed.conversation_id, patient_id=failed.patient_id)


def _safety_net_undelivered(session: Session, settings: Settings, failed: Message) -> None:
    """A safety net that could not reach the patient: someone must phone them now."""
    log.error("safety net not delivered; urgent call-back", extra={
        "message_id": failed.id, "error": failed.error_code})
    conversation = (conversations_service.get(session=session,
                                              conversation_id=failed.conversation_id)
                    if failed.conversation_id else None)
    handover_service.open_handover(
        session=session, settings=settings, reason=HandoverReason.RED_FLAG,
        urgency=Urgency.URGENT, created_by="gateway",
        conversation=(conversations_service.facts_of(conversation)
                      if conversation is not None else None),
        patient_id=failed.patient_id,
        summary=(f"The safety-net message could not be delivered (error "
                 f"{failed.error_code or failed.status.value}). Phone the patient now."))


def add_to_call_list(*, session: Session, settings: Settings, failed: Message) -> None:
    """A text that could not be delivered: the bookings team calls the patient (once)."""
    patients = numbers.patients_on_number(session=session, address=failed.to_address)
    patient_id = failed.patient_id or (patients[0].id if len(patients) == 1 else None)
    if patient_id and handover_service.open_for_patient(
            session=session, patient_id=patient_id, reason=HandoverReason.DELIVERY_FAILURE):
        return
    # Not tied to the conversation: the assistant stays available to the patient meanwhile.
    handover_service.open_handover(
        session=session, settings=settings, reason=HandoverReason.DELIVERY_FAILURE,
        urgency=Urgency.NORMAL, created_by="gateway", patient_id=patient_id,
        summary=(f"A text could not be delivered (status {failed.status.value}, "
                 f"error {failed.error_code or 'none'}). Please call the patient."
                 + ("" if patient_id else f" {len(patients)} patients share this number.")))
    log.info("patient added to the call-back list", extra={"message_id": failed.id})
