"""The phone line's webhooks at work: each callback's database work in a thread, and the wait
for the worker's answer.

Twilio waits up to 15 seconds for TwiML and the caller hears silence meanwhile. An assistant
turn is answered by the worker (the same turn as a text message); the gather callback polls
for it every 30 ms for up to VOICE_REPLY_WAIT_SECONDS. If it is not ready, the caller hears a
short holding phrase and Twilio is redirected to /twilio/voice/wait, which waits again; after
VOICE_MAX_WAIT_SECONDS in all the caller goes to a person (or hears what an action already
did, if one committed). Every callback is keyed by CallSid and sequence: a repeated one gets
the TwiML it got before, and one for a turn still in hand waits for that turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api import texts
from api.config import Settings
from api.conversations import turns
from api.handover.models import Handover, HandoverReason
from api.messaging.models import Message, MessageStatus
from api.messaging.notify import wake_workers
from api.voice import call_flow, calls, routing, speech
from api.voice.call_flow import AwaitTurn, Heard
from api.voice.models import CallStage, VoiceCall
from api.voice.schemas import VoiceForm
from api.voice.twiml import Connect, HangUp, Step, Wait, render

POLL_SECONDS = 0.03
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
T = TypeVar("T")


class UnknownCall(Exception):
    """A callback for a call this line never answered."""


class VoiceLine:
    def __init__(self, *, settings: Settings, session_factory: sessionmaker[Session]):
        self.settings = settings
        self.session_factory = session_factory

    async def incoming(self, form: VoiceForm) -> str:
        """A call rings."""
        def work(session: Session) -> str:
            call = calls.by_sid(session=session, call_sid=form.call_sid, lock=True)
            if call is not None:
                return self._again(call)  # Twilio retried the incoming webhook
            step = call_flow.answer_call(session=session, settings=self.settings,
                                         call_sid=form.call_sid, caller=form.from_)
            call = calls.by_sid(session=session, call_sid=form.call_sid)
            return self._answered(call, step)
        return await self._in_thread(work)

    async def gather(self, form: VoiceForm, seq: int) -> str:
        """The caller's answer to gather `seq`."""
        heard = Heard(speech=form.speech, digits=form.digits, confidence=form.confidence)

        def work(session: Session) -> str | int:
            call = self._call(session, form.call_sid)
            if seq <= call.answered_seq or call.stage is CallStage.ENDED:
                return self._again(call)  # Twilio asked again: the same answer
            if seq == call.seq:
                message = calls.answer_of_turn(session=session, call=call)
                return message.id if message is not None else self._again(call)
            if seq != call.seq + 1:
                return self._again(call)
            call.seq = seq
            result = call_flow.take(session=session, settings=self.settings, call=call,
                                    heard=heard)
            if isinstance(result, AwaitTurn):
                return result.message_id
            return self._answered(call, result)

        outcome = await self._in_thread(work)
        if isinstance(outcome, str):
            return outcome
        wake_workers(settings=self.settings)
        return await self._await_turn(form.call_sid, outcome, waited=0.0)

    async def wait(self, form: VoiceForm, seq: int, waited: float) -> str:
        """Twilio comes back after a holding phrase: the turn's answer, or more waiting."""
        def work(session: Session) -> str | int:
            call = self._call(session, form.call_sid)
            message = calls.answer_of_turn(session=session, call=call)
            if seq != call.seq or seq <= call.answered_seq or message is None:
                return self._again(call)
            return message.id

        outcome = await self._in_thread(work)
        if isinstance(outcome, str):
            return outcome
        return await self._await_turn(form.call_sid, outcome, waited=waited)

    async def dialled(self, form: VoiceForm) -> str:
        """A put-through call ended: done if someone answered, else a call-back."""
        def work(session: Session) -> str:
            call = self._call(session, form.call_sid)
            handover = session.get(Handover, call.handover_id) if call.handover_id else None
            if form.dial_status in ("completed", "answered") or handover is None:
                return render(Step([], HangUp()), settings=self.settings)
            step = routing.call_back(session=session, settings=self.settings, call=call,
                                     handover=handover,
                                     said=[texts.text("voice_not_answered")])
            return self._answered(call, step)
        return await self._in_thread(work)

    async def status(self, form: VoiceForm) -> None:
        """Twilio's call status callback: a finished call is settled and counted."""
        if form.call_status not in FINAL_STATUSES:
            return

        def work(session: Session) -> None:
            calls.end(session=session, call_sid=form.call_sid, twilio_status=form.call_status,
                      duration=form.call_duration)
        await self._in_thread(work)

    async def whisper(self, case_id: int) -> str:
        """What the person answering a put-through call hears before it connects."""
        def work(session: Session) -> str:
            handover = session.get(Handover, case_id)
            said = ["Call from the Rebook phone line."]
            if handover is not None:
                said += speech.spoken(
                    f"Case {handover.id}, {handover.reason.value.replace('_', ' ')}. "
                    f"{handover.summary[:400]}")
            return render(Step(said, HangUp() if handover is None else Connect()),
                          settings=self.settings)
        return await self._in_thread(work)

    # -- the wait for the worker --------------------------------------------------------------

    async def _await_turn(self, call_sid: str, message_id: int, *, waited: float) -> str:
        started = time.monotonic()
        while True:
            if await self._in_thread(lambda s: calls.is_answered(session=s,
                                                                 message_id=message_id)):
                return await self._in_thread(lambda s: self._speak_turn(s, call_sid,
                                                                        message_id))
            if time.monotonic() - started >= self.settings.voice_reply_wait_seconds:
                break
            await asyncio.sleep(POLL_SECONDS)
        total = waited + time.monotonic() - started
        if total >= self.settings.voice_max_wait_seconds:
            return await self._in_thread(lambda s: self._give_up(s, call_sid, message_id))
        def holding(session: Session) -> str:
            call = self._call(session, call_sid)
            phrase = "voice_holding" if waited == 0 else "voice_still_holding"
            return render(Step([texts.text(phrase)], Wait(seq=call.seq, waited=total)),
                          settings=self.settings)
        return await self._in_thread(holding)

    def _speak_turn(self, session: Session, call_sid: str, message_id: int) -> str:
        call = self._call(session, call_sid)
        if call.answered_seq >= call.seq:
            return self._again(call)  # another callback spoke this turn a moment ago
        step = call_flow.after_turn(session=session, settings=self.settings, call=call,
                                    message_id=message_id)
        return self._answered(call, step)

    def _give_up(self, session: Session, call_sid: str, message_id: int) -> str:
        """The assistant took too long: what an action already did, else a person."""
        call = self._call(session, call_sid)
        if call.answered_seq >= call.seq:
            return self._again(call)
        turns.hold_message(session=session, message_id=message_id)
        recorded = turns.recorded_replies(session=session, message_id=message_id)
        parked = session.execute(
            update(Message).where(Message.id == message_id,
                                  Message.status == MessageStatus.RECEIVED)
            .values(status=MessageStatus.PARKED,
                    parked_reason="the caller could not wait longer for the assistant")
        ).rowcount
        said = [s for reply in recorded for s in speech.spoken(reply.text, reply.buttons)]
        if said or not parked:
            step = (call_flow.after_turn(session=session, settings=self.settings, call=call,
                                         message_id=message_id) if not said else
                    routing.say_then_listen(session=session, settings=self.settings,
                                            call=call, said=said))
            return self._answered(call, step)
        handover = routing.open_person_case(
            session=session, settings=self.settings, call=call,
            reason=HandoverReason.ASSISTANT_UNAVAILABLE,
            message=session.get(Message, message_id),
            summary="The assistant did not answer a caller in time; the call came to the team.")
        step = routing.to_person(session=session, settings=self.settings, call=call,
                                 handover=handover, said=[texts.text("voice_not_answered")])
        return self._answered(call, step)

    # -- plumbing ----------------------------------------------------------------------------

    def _answered(self, call: VoiceCall, step: Step) -> str:
        """The TwiML for `step`, kept as the answer to the current turn."""
        xml = render(step, settings=self.settings)
        call.last_twiml = xml
        call.answered_seq = call.seq
        return xml

    def _again(self, call: VoiceCall) -> str:
        """The answer already given to this turn (a call that is over: goodbye)."""
        return call.last_twiml or render(Step([], HangUp()), settings=self.settings)

    @staticmethod
    def _call(session: Session, call_sid: str) -> VoiceCall:
        call = calls.by_sid(session=session, call_sid=call_sid, lock=True)
        if call is None:
            raise UnknownCall(call_sid)
        return call

    async def _in_thread(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.session_factory() as session:
                try:
                    result = work(session)
                    session.commit()
                    return result
                except Exception:
                    session.rollback()
                    raise
        return await run_in_threadpool(run)
