"""The call record: starting a call, storing each answer, speaking the replies, ending it.

What the caller says is stored as inbound messages of the call's conversation and what the
call says as outbound ones (spoken, so never sent by the dispatcher): a call's transcript is
read like any text conversation's, in the console and in the retention purge.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from prometheus_client import Counter, Histogram
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.config import Settings
from api.conversations import service as conversations_service
from api.conversations.models import Conversation
from api.db import utcnow
from api.messaging import inbound_store, outbox
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.voice.models import CallOutcome, CallStage, VoiceCall

log = logging.getLogger(__name__)

# What Twilio puts in From when the caller withholds their number (or the network hides it).
WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "private", "unavailable",
                      "+266696687", "+7378742833", "+2562533", "+8656696"})

CALLS = Counter("rebook_voice_calls_total", "Calls answered by the phone line")
CALL_OUTCOMES = Counter("rebook_voice_call_outcomes_total",
                        "How calls ended: contained, transferred, call_back, safety_net, "
                        "abandoned", ["outcome"])
CALL_SECONDS = Histogram("rebook_voice_call_seconds", "Call duration (Twilio's CallDuration)",
                         buckets=(30, 60, 120, 180, 300, 600, 900, 1800))
SPOKEN = frozenset({MessageStatus.DELIVERED})


def caller_address(caller: str, call_sid: str) -> tuple[str, bool]:
    """The conversation address for a caller: their number, or (withheld) one per call."""
    number = (caller or "").strip()
    if number.lower() in WITHHELD or not number.startswith("+"):
        # Every withheld call is a stranger: it must never share a conversation (or a
        # verification) with another withheld call.
        return f"withheld:{call_sid[-24:]}", True
    return number, False


def by_sid(*, session: Session, call_sid: str, lock: bool = False) -> VoiceCall | None:
    """The call Twilio calls `call_sid`; locked (PostgreSQL) for the turn when asked."""
    query = select(VoiceCall).where(VoiceCall.call_sid == call_sid)
    return session.scalars(query.with_for_update() if lock else query).first()


def begin(*, session: Session, call_sid: str, caller: str) -> VoiceCall:
    """The call's record, created when it rings (a repeated webhook finds the first)."""
    existing = by_sid(session=session, call_sid=call_sid)
    if existing is not None:
        return existing
    address, withheld = caller_address(caller, call_sid)
    conversation = conversations_service.get_or_create(session=session, channel=Channel.VOICE,
                                                       address=address)
    # Caller ID can be spoofed: every call proves who it is afresh.
    conversation.verified_patient_id = None
    conversation.verified_until = None
    call = VoiceCall(call_sid=call_sid, conversation_id=conversation.id, caller=address,
                     withheld=withheld, stage=CallStage.DOB, seq=0, answered_seq=0,
                     silences=0, unclear=0, identity_failures=0, last_said=[], options=[],
                     pending={}, last_twiml="", twilio_status="in-progress")
    session.add(call)
    session.flush()
    CALLS.inc()
    log.info("call answered", extra={"call_id": call.id, "withheld": withheld})
    return call


def calls_this_hour(*, session: Session, caller: str, now: datetime | None = None) -> int:
    """Calls from this number in the last hour (withheld calls are not counted together)."""
    since = (now or utcnow()) - timedelta(hours=1)
    return session.scalar(select(func.count()).select_from(VoiceCall).where(
        VoiceCall.caller == caller, VoiceCall.started_at >= since)) or 0


def conversation_of(*, session: Session, call: VoiceCall) -> Conversation:
    return session.get(Conversation, call.conversation_id)


def store_answer(*, session: Session, settings: Settings, call: VoiceCall, text: str,
                 answered: bool) -> Message:
    """The caller's answer to gather `call.seq`, stored once (CallSid and sequence)."""
    sid = f"{call.call_sid}:{call.seq}"
    inbound_store.record_spoken(session=session, provider_sid=sid,
                                conversation_id=call.conversation_id, from_address=call.caller,
                                to_address=settings.twilio_sms_from, text=text,
                                answered=answered)
    session.execute(update(Conversation).where(Conversation.id == call.conversation_id)
                    .values(last_inbound_at=utcnow()))
    return session.scalars(select(Message).where(Message.provider_sid == sid)).one()


def say(*, session: Session, settings: Settings, call: VoiceCall, message: Message | None,
        text: str, category: MessageCategory = MessageCategory.REPLY) -> None:
    """Put what the call says itself in the transcript, as spoken."""
    spoken = outbox.queue_message(
        session=session, settings=settings, channel=Channel.VOICE, to_address=call.caller,
        text=text, category=category, conversation_id=call.conversation_id,
        patient_id=call.patient_id, reply_to=message)
    spoken.status = MessageStatus.DELIVERED


def is_answered(*, session: Session, message_id: int) -> bool:
    """Whether the worker has finished the turn for this answer."""
    status = session.scalar(select(Message.status).where(Message.id == message_id))
    return status in (MessageStatus.PROCESSED, MessageStatus.PARKED)


def take_replies(*, session: Session, message_id: int) -> list[Message]:
    """The replies queued for an answer, in order, marked spoken."""
    replies = list(session.scalars(
        select(Message).where(Message.reply_to_id == message_id,
                              Message.direction == Direction.OUTBOUND,
                              Message.channel == Channel.VOICE)
        .order_by(Message.id)))
    for reply in replies:
        reply.status = MessageStatus.DELIVERED
    return replies


def answer_of_turn(*, session: Session, call: VoiceCall) -> Message | None:
    """The stored answer of the call's current turn."""
    return session.scalars(select(Message).where(
        Message.provider_sid == f"{call.call_sid}:{call.seq}")).first()


def settle(*, call: VoiceCall, outcome: CallOutcome) -> None:
    """The call's outcome; the first one that is a person's work (or the safety net) stands."""
    if call.outcome in (None, CallOutcome.CONTAINED, CallOutcome.ABANDONED):
        call.outcome = outcome


def end(*, session: Session, call_sid: str, twilio_status: str,
        duration: int | None) -> VoiceCall | None:
    """Twilio says the call is over: its length, its outcome, and nothing left unsaid."""
    call = by_sid(session=session, call_sid=call_sid, lock=True)
    if call is None:
        return None
    first_time = call.ended_at is None
    call.twilio_status = twilio_status
    call.ended_at = call.ended_at or utcnow()
    call.duration_seconds = duration if duration is not None else call.duration_seconds
    if call.outcome is None:
        call.outcome = (CallOutcome.CONTAINED if call.stage is not CallStage.DOB
                        and call.patient_id is not None else CallOutcome.ABANDONED)
    call.stage = CallStage.ENDED
    # What the call was holding for its next step (a date of birth being read back, the
    # words for "repeat") has no use once it is over; the transcript keeps what was said.
    call.pending, call.last_said, call.options, call.last_twiml = {}, [], [], ""
    # Replies the caller hung up on stay in the transcript, marked as never said.
    session.execute(update(Message).where(
        Message.conversation_id == call.conversation_id, Message.channel == Channel.VOICE,
        Message.direction == Direction.OUTBOUND, Message.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.CANCELLED))
    if first_time:
        CALL_OUTCOMES.labels(call.outcome.value).inc()
        if call.duration_seconds is not None:
            CALL_SECONDS.observe(call.duration_seconds)
        log.info("call ended", extra={"call_id": call.id, "outcome": call.outcome.value})
    return call
