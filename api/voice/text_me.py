""""Text me the options instead": the dates on offer go by SMS, and the patient continues there.

Only to the patient's own registered mobile, called from that number, when texts are right for
them (not opted out, no recorded need that rules texts out, not restricted): otherwise the
team calls back. The text lists the offers held in the database, in the order the assistant
reads them back from there when the patient replies with a number, so a reply of "2" on SMS
books what the text called 2 (after the SMS conversation's own identity check).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api import texts
from api.config import Settings
from api.conversations import service as conversations_service
from api.handover.models import HandoverReason
from api.messaging import numbers, opt_outs, outbox
from api.messaging.models import Channel, Message, MessageCategory
from api.patients.models import Patient
from api.scheduling import holds
from api.system import localtime
from api.voice import routing
from api.voice.models import CallOutcome, VoiceCall
from api.voice.twiml import Step


def send_options(*, session: Session, settings: Settings, call: VoiceCall,
                 message: Message) -> Step:
    """Text the held dates to the caller's registered mobile, or arrange a call-back."""
    patient = session.get(Patient, call.patient_id) if call.patient_id else None
    offers = holds.held_for_patient(session=session, patient_id=patient.id) if patient else []
    if patient is None or not offers:
        return routing.say_then_listen(
            session=session, settings=settings, call=call,
            said=[texts.text("voice_no_options_to_text"), *call.last_said],
            digits=1 if call.options else None)
    if not _may_text(session=session, call=call, patient=patient):
        handover = routing.open_person_case(
            session=session, settings=settings, call=call, message=message,
            reason=HandoverReason.ASKED_FOR_PERSON,
            summary="The caller asked for their dates by text, but texts cannot go to this "
                    "number (not the mobile in their record, opted out, or texts are not "
                    "right for them). Please call back to book.")
        return routing.call_back(session=session, settings=settings, call=call,
                                 handover=handover, said=[texts.text("voice_cannot_text")])
    zone = localtime.patient_zone(settings)
    conversation = conversations_service.get_or_create(session=session, channel=Channel.SMS,
                                                       address=patient.mobile)
    outbox.queue_message(
        session=session, settings=settings, channel=Channel.SMS, to_address=patient.mobile,
        text=texts.text("voice_options_by_text", trust=settings.trust_name,
                        when=texts.when(min(o.expires_at for o in offers), zone=zone),
                        phone=settings.bookings_phone),
        buttons=[{"title": texts.slot_line(o.slot, zone=zone), "payload": f"offer:{o.id}"}
                 for o in offers],
        category=MessageCategory.REPLY, conversation_id=conversation.id,
        patient_id=patient.id)
    call.outcome = CallOutcome.CONTAINED
    return routing.say_and_end(session=session, settings=settings, call=call,
                               said=[texts.text("voice_options_texted")])


def _may_text(*, session: Session, call: VoiceCall, patient: Patient) -> bool:
    return (not call.withheld and patient.mobile is not None
            and numbers.bare_number(call.caller) == patient.mobile
            and patient.text_is_accessible
            and not opt_outs.is_opted_out(session=session, address=patient.mobile))
