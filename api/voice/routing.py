"""Where a call goes when the assistant should not keep it: a person, or the safety net.

- A red flag: the spoken safety net at once, an urgent case (the clinicians' call-back), and a
  transfer only to the configured clinical line, never to the bookings clerks.
- Anything else a person should take (asked for one, not heard three times, identity not
  proven, communication needs): put through to the bookings team in working hours, else a
  call-back request on the case, said with when to expect it.
Only the two configured numbers are ever dialled (toll fraud), each with a time limit.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from api import texts
from api.config import Settings
from api.conversations import safety
from api.conversations import service as conversations_service
from api.db import utcnow
from api.flows.safety_net import send_safety_net
from api.handover import service as handover_service
from api.handover.models import Handover, HandoverReason, Urgency
from api.messaging.models import Message
from api.patients.models import Patient
from api.system import working_hours
from api.voice import calls, speech
from api.voice.models import CallOutcome, CallStage, VoiceCall
from api.voice.twiml import HangUp, Listen, PutThrough, Step

log = logging.getLogger(__name__)


def red_flag(*, session: Session, settings: Settings, call: VoiceCall, message: Message,
             result: safety.ScreenResult) -> Step:
    """The safety net, said now, and the urgent case; the clinical line if there is one."""
    conversation = calls.conversation_of(session=session, call=call)
    send_safety_net(session=session, settings=settings, conversation=conversation,
                    message=message, result=result)
    said = spoken_replies(session=session, message_id=message.id)
    recorded = len(said)
    if not said:  # the net went minutes ago: on a call it is said again all the same
        group = safety.reply_group(result.categories)
        said = [texts.text(f"voice_safety_net_{group}", trust_name=settings.trust_name)]
    call.outcome = CallOutcome.SAFETY_NET
    handover = handover_service.open_for_conversation(session=session,
                                                      conversation_id=call.conversation_id)
    call.handover_id = handover.id if handover else call.handover_id
    if settings.voice_clinical_number and handover is not None:
        return _to_clinical_line(session=session, settings=settings, call=call, said=said,
                                 handover=handover, recorded=recorded, why="after the safety net")
    call.stage = CallStage.SAFETY
    return say_then_listen(session=session, settings=settings, call=call,
                           said=[*said, texts.text("voice_safety_repeat")], keypad_only=True,
                           digits=1, recorded=recorded)


def to_person(*, session: Session, settings: Settings, call: VoiceCall, handover: Handover,
              said: list[str], recorded: int = 0) -> Step:
    """Put through to the bookings team in working hours; otherwise a call-back request.

    A case that is urgent (a red flag, on this call or an earlier one) never goes to the
    clerks: the clinical line, or the clinicians' call-back."""
    call.handover_id = handover.id
    if handover.urgency is Urgency.URGENT:
        return _urgent(session=session, settings=settings, call=call, handover=handover,
                       said=said, recorded=recorded)
    if settings.voice_bookings_number and working_hours.is_working_time(utcnow(), settings):
        calls.settle(call=call, outcome=CallOutcome.TRANSFERRED)
        call.outcome = CallOutcome.TRANSFERRED
        handover_service.add_system_note(
            session=session, handover=handover, actor="phone_line", action="call_put_through",
            text="The caller was put through to the bookings team; the call's transcript is "
                 "on this case.")
        return _put_through(session=session, settings=settings, call=call, said=said,
                            number=settings.voice_bookings_number, handover=handover,
                            lead="voice_putting_through", recorded=recorded)
    return call_back(session=session, settings=settings, call=call, handover=handover,
                     said=said, recorded=recorded)


def _urgent(*, session: Session, settings: Settings, call: VoiceCall, handover: Handover,
            said: list[str], recorded: int) -> Step:
    if call.outcome is not CallOutcome.SAFETY_NET:
        call.outcome = CallOutcome.CALL_BACK
    if settings.voice_clinical_number:
        return _to_clinical_line(session=session, settings=settings, call=call, said=said,
                                 handover=handover, recorded=recorded,
                                 why="(an urgent case is open)")
    return say_and_end(session=session, settings=settings, call=call, recorded=recorded,
                       said=[*said, texts.text("voice_clinician_call_back")])


def _to_clinical_line(*, session: Session, settings: Settings, call: VoiceCall,
                      handover: Handover, said: list[str], recorded: int, why: str) -> Step:
    handover_service.add_system_note(
        session=session, handover=handover, actor="phone_line", action="call_put_through",
        text=f"The caller was put through to the clinical line {why}.")
    return _put_through(session=session, settings=settings, call=call, said=said,
                        number=settings.voice_clinical_number, handover=handover,
                        lead="voice_putting_through_clinical", recorded=recorded)


def call_back(*, session: Session, settings: Settings, call: VoiceCall, handover: Handover,
              said: list[str], recorded: int = 0) -> Step:
    """Ask the team to call back, on the number called from or the number in the record."""
    call.handover_id = handover.id
    call.outcome = CallOutcome.CALL_BACK
    patient = session.get(Patient, call.patient_id) if call.patient_id else None
    if not call.withheld:
        where, words = "the number they called from (this case's conversation)", "voice_call_back"
    elif patient is not None and patient.mobile:
        where, words = "the mobile number in their record", "voice_call_back_mobile"
    else:
        where, words = None, ""
    if where is None:
        handover_service.add_system_note(
            session=session, handover=handover, actor="phone_line", action="call_back_requested",
            text="The caller needed a person but withheld their number and was not "
                 "identified: they were asked to call the bookings team.")
        closing = texts.text("voice_call_back_unknown", phone=settings.bookings_phone)
    else:
        handover_service.add_system_note(
            session=session, handover=handover, actor="phone_line", action="call_back_requested",
            text=f"The caller asked for a call-back on {where}. The call's transcript is on "
                 "this case.")
        closing = texts.text(words, when=texts.answer_by(settings=settings,
                                                          due_at=handover.due_at))
    return say_and_end(session=session, settings=settings, call=call, said=[*said, closing],
                       recorded=recorded)


def open_person_case(*, session: Session, settings: Settings, call: VoiceCall,
                     reason: HandoverReason, summary: str,
                     message: Message | None = None) -> Handover:
    """The case a person works from, opened by the phone line (or the one already open)."""
    return handover_service.open_handover(
        session=session, settings=settings, reason=reason, urgency=Urgency.NORMAL,
        created_by="phone_line", summary=summary, patient_id=call.patient_id,
        conversation=conversations_service.facts_of(
            calls.conversation_of(session=session, call=call)),
        trigger_message_id=message.id if message else None)


def _put_through(*, session: Session, settings: Settings, call: VoiceCall, said: list[str],
                 number: str, handover: Handover, lead: str, recorded: int) -> Step:
    spoken = [*said, texts.text(lead)]
    _remember(session=session, settings=settings, call=call, said=spoken, recorded=recorded)
    log.info("call put through", extra={"call_id": call.id, "handover_id": handover.id})
    return Step(spoken, PutThrough(number=number, whisper_case=handover.id, seq=call.seq))


def say_and_end(*, session: Session, settings: Settings, call: VoiceCall,
                said: list[str], recorded: int = 0) -> Step:
    """Say the last words and hang up."""
    _remember(session=session, settings=settings, call=call, said=said, recorded=recorded)
    call.stage = CallStage.ENDED
    return Step(said, HangUp())


def say_then_listen(*, session: Session, settings: Settings, call: VoiceCall, said: list[str],
                    keypad_only: bool = False, digits: int | None = None,
                    hints: tuple[str, ...] = (), recorded: int = 0) -> Step:
    """Say `said` and listen for the next answer (turn `call.seq + 1`)."""
    _remember(session=session, settings=settings, call=call, said=said, recorded=recorded)
    return Step(said, Listen(seq=call.seq + 1, keypad_only=keypad_only, digits=digits,
                             hints=hints))


def _remember(*, session: Session, settings: Settings, call: VoiceCall, said: list[str],
              recorded: int) -> None:
    """Keep what the call says for "repeat", and put in the transcript what is not there yet
    (the first `recorded` sentences are the assistant's replies, stored by the worker)."""
    call.last_said = list(said)
    own = said[recorded:]
    if own:
        answer = calls.answer_of_turn(session=session, call=call) if call.seq else None
        calls.say(session=session, settings=settings, call=call, message=answer,
                  text=" ".join(own))


def spoken_replies(*, session: Session, message_id: int) -> list[str]:
    """The replies queued for an answer, as sentences (already in the transcript)."""
    sentences: list[str] = []
    for reply in calls.take_replies(session=session, message_id=message_id):
        sentences += speech.spoken(reply.body or "", reply.buttons)
    return sentences
