"""A call, turn by turn: what the caller said or keyed, and what the call does next.

Every answer is read by the safety screen first, whatever the stage and however unsure the
speech recognition was. Then the call's own words ("repeat", "agent", "text me the options"),
then the stage: identity (api.voice.caller_identity), a read-back before anything is acted on,
or the assistant. The assistant's turns go through the worker like any message (the same
safety screen, the same retry-safe turn keyed by CallSid and sequence); `take` returns
`AwaitTurn` and the webhook waits for it, then `after_turn` speaks the replies.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import texts
from api.config import Settings
from api.conversations import safety
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.patients.models import Patient
from api.reference.models import Site, Specialty
from api.voice import caller_identity, calls, routing, speech, understanding
from api.voice.models import CallOutcome, CallStage, VoiceCall
from api.voice.twiml import Step

# Cases a person takes over the phone at once; any other (a clinical review asked for, a
# refused PAS booking) is the team's work after the call, and the call goes on.
PERSON_REASONS = frozenset({
    HandoverReason.ASKED_FOR_PERSON, HandoverReason.NOT_UNDERSTOOD,
    HandoverReason.IDENTITY_LOCKOUT, HandoverReason.COMPLAINT,
    HandoverReason.COMMUNICATION_NEEDS, HandoverReason.ASSISTANT_UNAVAILABLE,
    HandoverReason.DAILY_CAP,
})
MISSES_BEFORE_PERSON = 3
KEYS = {CallStage.DOB: 8, CallStage.NHS_NUMBER: 10, CallStage.CONFIRM_DOB: 1,
        CallStage.CONFIRM_CHOICE: 1, CallStage.OFFER_PERSON: 1, CallStage.SAFETY: 1}


@dataclass(frozen=True)
class Heard:
    """One gather's result: what was said (with Twilio's confidence) or keyed."""

    speech: str = ""
    digits: str = ""
    confidence: float | None = None

    @property
    def nothing(self) -> bool:
        return not self.speech.strip() and not self.digits

    @property
    def said(self) -> str:
        return self.digits or self.speech.strip()


@dataclass(frozen=True)
class AwaitTurn:
    """The assistant has the turn: wait for the worker to answer this message."""

    message_id: int


def answer_call(*, session: Session, settings: Settings, call_sid: str, caller: str) -> Step:
    """A call rings: who we are, 999, the recording notice if any, then who is calling."""
    call = calls.begin(session=session, call_sid=call_sid, caller=caller)
    if not call.withheld and calls.calls_this_hour(
            session=session, caller=call.caller) > settings.voice_calls_per_hour:
        call.outcome = CallOutcome.ABANDONED
        return routing.say_and_end(session=session, settings=settings, call=call, said=[
            texts.text("voice_too_many_calls", phone=settings.bookings_phone)])
    call.stage, question = caller_identity.first_stage(session=session, call=call)
    said = [texts.text("voice_welcome", trust_name=settings.trust_name)]
    if settings.voice_record_calls:
        said.append(texts.text("voice_recorded"))
    return _listen(session, settings, call, [*said, question])


def take(*, session: Session, settings: Settings, call: VoiceCall,
         heard: Heard) -> Step | AwaitTurn:
    """The caller's answer to turn `call.seq`."""
    if heard.nothing:
        return _missed(session, settings, call, lead="voice_silence")
    if heard.speech:
        result = safety.screen(heard.speech)
        if result.red_flag:
            message = calls.store_answer(session=session, settings=settings, call=call,
                                         text=heard.speech, answered=True)
            return routing.red_flag(session=session, settings=settings, call=call,
                                    message=message, result=result)
    unsure = (not heard.digits and heard.confidence is not None
              and heard.confidence < settings.voice_min_confidence)
    if call.stage is CallStage.ASSISTANT and not unsure and _is_turn_for_assistant(call, heard):
        call.silences = 0
        message = calls.store_answer(session=session, settings=settings, call=call,
                                     text=_for_assistant(call, heard), answered=False)
        return AwaitTurn(message.id)
    message = calls.store_answer(session=session, settings=settings, call=call,
                                 text=heard.said, answered=True)
    if unsure:
        call.unclear += 1
        return _missed(session, settings, call, lead="voice_unclear")
    command = understanding.command(heard.speech) if heard.speech else _key_command(heard)
    if command is understanding.Command.REPEAT:
        return _listen(session, settings, call, list(call.last_said))
    if command is understanding.Command.AGENT:
        handover = routing.open_person_case(
            session=session, settings=settings, call=call, message=message,
            reason=HandoverReason.ASKED_FOR_PERSON,
            summary="The caller asked for a person on the phone line.")
        return routing.to_person(session=session, settings=settings, call=call,
                                 handover=handover, said=[])
    if command is understanding.Command.TEXT_ME:
        from api.voice import text_me  # the SMS path is only needed here

        return text_me.send_options(session=session, settings=settings, call=call,
                                    message=message)
    call.silences = 0
    return _by_stage(session, settings, call, heard)


def _key_command(heard: Heard) -> understanding.Command | None:
    if heard.digits == "*":
        return understanding.Command.REPEAT
    if heard.digits == "0":
        return understanding.Command.AGENT
    return None


def _is_turn_for_assistant(call: VoiceCall, heard: Heard) -> bool:
    """Whether the assistant answers this (not a call command, not a choice to read back)."""
    if heard.digits in ("*", "0"):
        return False
    if heard.speech and understanding.command(heard.speech) is not None:
        return False
    return _chosen_option(call, heard) is None


def _chosen_option(call: VoiceCall, heard: Heard) -> int | None:
    if not call.options:
        return None
    count = len(call.options)
    if heard.digits:
        return int(heard.digits) if heard.digits.isdigit() and 1 <= int(heard.digits) <= count \
            else None
    return (understanding.option_number(heard.speech, count)
            or understanding.option_by_weekday(heard.speech, [o["title"] for o in call.options]))


def _for_assistant(call: VoiceCall, heard: Heard) -> str:
    """Keys as words where the assistant expects words: 1 is yes and 2 is no."""
    if heard.digits:
        return {"1": "yes", "2": "no"}.get(heard.digits, heard.digits)
    return heard.speech.strip()


def _by_stage(session: Session, settings: Settings, call: VoiceCall,
              heard: Heard) -> Step | AwaitTurn:
    stage = call.stage
    if stage is CallStage.NHS_NUMBER:
        return _identity_result(session, settings, call, caller_identity.take_nhs_number(
            session=session, settings=settings, call=call, said=heard.said))
    if stage is CallStage.PERSON:
        return _identity_result(session, settings, call, caller_identity.take_person(
            session=session, settings=settings, call=call, said=heard.said))
    if stage is CallStage.DOB:
        checked = caller_identity.take_dob(session=session, settings=settings, call=call,
                                           said=heard.said, keyed=bool(heard.digits))
        if checked is None:
            return _listen(session, settings, call, [texts.text("voice_dob_unreadable")])
        return _identity_result(session, settings, call, checked)
    answer = _yes_no(heard)
    if stage is CallStage.CONFIRM_DOB:
        return _confirm_dob(session, settings, call, answer, heard)
    if stage is CallStage.OFFER_PERSON:
        return _offer_person(session, settings, call, answer)
    if stage is CallStage.CONFIRM_CHOICE:
        return _confirm_choice(session, settings, call, answer)
    if stage is CallStage.SAFETY:
        return routing.say_and_end(session=session, settings=settings, call=call, said=[
            texts.text("voice_goodbye", trust_name=settings.trust_name)])
    # The assistant's stage, with a choice to read back before it is booked.
    number = _chosen_option(call, heard)
    option = next((o for o in call.options if o["number"] == number), None)
    if option is None:
        return _missed(session, settings, call, lead="voice_unclear")
    call.pending = {"option": number}
    call.stage = CallStage.CONFIRM_CHOICE
    return _listen(session, settings, call, [texts.text(
        "voice_confirm_choice", slot=speech.speak_when(option["title"]))])


def _yes_no(heard: Heard) -> bool | None:
    if heard.digits:
        return {"1": True, "2": False}.get(heard.digits)
    return understanding.yes_no(heard.speech)


def _confirm_dob(session: Session, settings: Settings, call: VoiceCall,
                 answer: bool | None, heard: Heard) -> Step:
    if answer is None:
        # "No, it's the 3rd of July": a new date instead of a yes or no is read back in turn.
        again = caller_identity.take_dob(session=session, settings=settings, call=call,
                                         said=heard.said, keyed=len(heard.digits) == 8)
        if again is not None:
            return _identity_result(session, settings, call, again)
        return _missed(session, settings, call, lead="voice_unclear")
    if not answer:
        call.pending = {k: v for k, v in call.pending.items() if k != "dob"}
        call.stage = CallStage.DOB
        return _listen(session, settings, call, [texts.text("voice_dob_again")])
    return _identity_result(session, settings, call, caller_identity.check_pending_dob(
        session=session, settings=settings, call=call))


def _identity_result(session: Session, settings: Settings, call: VoiceCall,
                     checked: caller_identity.Checked) -> Step:
    if checked.locked:
        handover = handover_service.open_for_conversation(
            session=session, conversation_id=call.conversation_id) or caller_identity.lockout_case(
            session=session, call=call) or routing.open_person_case(
            session=session, settings=settings, call=call,
            reason=HandoverReason.IDENTITY_LOCKOUT,
            summary="Phone identity not proven: three answers on one call did not match. "
                    "Call back on the number in the patient's record and verify identity.")
        return routing.to_person(session=session, settings=settings, call=call,
                                 handover=handover, said=checked.said)
    if not checked.verified:
        return _listen(session, settings, call, checked.said)
    patient = session.get(Patient, call.patient_id)
    if patient.communication_needs or patient.restricted:
        call.stage = CallStage.OFFER_PERSON
        return _listen(session, settings, call, [texts.text("voice_offer_person")])
    return _start_assistant(session, settings, call)


def _start_assistant(session: Session, settings: Settings, call: VoiceCall) -> Step:
    call.stage = CallStage.ASSISTANT
    return _listen(session, settings, call, [texts.text("voice_verified"),
                                             texts.text("voice_way_out")])


def _offer_person(session: Session, settings: Settings, call: VoiceCall,
                  answer: bool | None) -> Step:
    if answer is None:
        return _missed(session, settings, call, lead="voice_unclear")
    if not answer:
        return _start_assistant(session, settings, call)
    handover = routing.open_person_case(
        session=session, settings=settings, call=call,
        reason=HandoverReason.COMMUNICATION_NEEDS,
        summary="A caller with recorded communication needs (or a restricted record) asked "
                "for a person on the phone line.")
    return routing.to_person(session=session, settings=settings, call=call, handover=handover,
                             said=[])


def _confirm_choice(session: Session, settings: Settings, call: VoiceCall,
                    answer: bool | None) -> Step | AwaitTurn:
    if answer is None:
        return _missed(session, settings, call, lead="voice_unclear")
    call.stage = CallStage.ASSISTANT
    number = call.pending.pop("option", None)
    call.pending = dict(call.pending)
    option = next((o for o in call.options if o["number"] == number), None)
    if not answer or option is None:
        said = speech.spoken("", [{"title": o["title"], "payload": o["payload"]}
                                  for o in call.options])
        return _listen(session, settings, call, said)
    # Confirmed: the assistant books exactly the option read back (its button's payload),
    # as the next turn of the same call.
    call.seq += 1
    message = calls.store_answer(session=session, settings=settings, call=call,
                                 text=option["payload"], answered=False)
    return AwaitTurn(message.id)


def after_turn(*, session: Session, settings: Settings, call: VoiceCall,
               message_id: int) -> Step:
    """The worker has answered: speak its replies, or hand the call to a person."""
    said, options = [], []
    for reply in calls.take_replies(session=session, message_id=message_id):
        said += speech.spoken(reply.body or "", reply.buttons)
        if reply.buttons:
            options = [{"number": n, "title": b.get("title", ""), "payload": b.get("payload", "")}
                       for n, b in enumerate(reply.buttons, 1)]
    call.options = options
    handover = handover_service.open_for_conversation(session=session,
                                                      conversation_id=call.conversation_id)
    if handover is not None and (handover.reason in PERSON_REASONS or not said
                                 or handover.urgency is Urgency.URGENT):
        return routing.to_person(session=session, settings=settings, call=call,
                                 handover=handover, said=said, recorded=len(said))
    if not said:  # never silence on a call
        return _listen(session, settings, call, [texts.text("voice_unclear"),
                                                 *call.last_said])
    return _listen(session, settings, call, said, recorded=len(said))


def _missed(session: Session, settings: Settings, call: VoiceCall, *, lead: str) -> Step:
    """Nothing heard, or not understood: ask again, then the keypad, then a person."""
    call.silences += 1
    if call.stage is CallStage.SAFETY:
        return routing.say_and_end(session=session, settings=settings, call=call, said=[
            texts.text("voice_goodbye", trust_name=settings.trust_name)])
    if call.silences >= MISSES_BEFORE_PERSON:
        handover = handover_service.open_for_conversation(
            session=session, conversation_id=call.conversation_id) or routing.open_person_case(
            session=session, settings=settings, call=call, reason=HandoverReason.NOT_UNDERSTOOD,
            summary=f"The phone line could not hear or understand the caller "
                    f"{MISSES_BEFORE_PERSON} times in a row (silence, noise or unclear speech).")
        return routing.to_person(session=session, settings=settings, call=call,
                                 handover=handover, said=[texts.text(lead)])
    said = [texts.text(lead)]
    if call.silences == MISSES_BEFORE_PERSON - 1:
        said.append(texts.text("voice_use_keypad"))
    said += [s for s in call.last_said if s not in said]
    return _listen(session, settings, call, said,
                   keypad_only=call.silences == MISSES_BEFORE_PERSON - 1, repeat=True)


def _listen(session: Session, settings: Settings, call: VoiceCall, said: list[str], *,
            keypad_only: bool = False, recorded: int = 0, repeat: bool = False) -> Step:
    digits = KEYS.get(call.stage) or (1 if call.options else None)
    if call.stage is not CallStage.SAFETY and not {
            texts.text("voice_way_out"), texts.text("voice_way_out_short")} & set(said):
        said = [*said, texts.text("voice_way_out_short")]  # a way out at every step
    step = routing.say_then_listen(session=session, settings=settings, call=call, said=said,
                                   keypad_only=keypad_only, digits=digits,
                                   hints=speech_hints(session), recorded=recorded)
    if repeat:
        # A reprompt must not become what "repeat" says next time.
        call.last_said = [s for s in step.said if s not in (texts.text("voice_silence"),
                                                       texts.text("voice_unclear"),
                                                       texts.text("voice_use_keypad"))]
    step.options = call.options
    return step


def speech_hints(session: Session) -> tuple[str, ...]:
    """Words the recogniser should expect: the trust's sites and specialties, and ours."""
    sites = session.scalars(select(Site.name).order_by(Site.name).limit(40))
    specialties = session.scalars(select(Specialty.name).order_by(Specialty.name).limit(40))
    return (*sites, *specialties, "agent", "repeat", "new date", "cancel", "morning",
            "afternoon")
