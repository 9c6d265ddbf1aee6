"""One inbound message's turn: the safety screen, the house rules, then the assistant.

The order is the design: the safety screen first, on every message; then a retried message
whose actions already committed gets their words; then the message joins any open case; then
the inbound rate limit, HELP, STOP, staff having the conversation, media and the daily cap;
and only then the assistant, retry-safe (api/conversations/turns.py). Whatever the worker
commits after `handle` is the whole turn: replies, handovers and the message marked processed.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from limits import RateLimitItemPerHour, RateLimitItemPerMinute, storage, strategies
from prometheus_client import Histogram
from sqlalchemy.orm import Session

from api import texts
from api.config import Settings
from api.conversations import safety, turns
from api.conversations.models import Conversation
from api.conversations.rasa_client import AssistantReply, AssistantUnavailable, RasaClient
from api.db import utcnow
from api.flows import replies
from api.flows.safety_net import send_safety_net
from api.handover import service as handover_service
from api.handover.models import Handover, HandoverReason
from api.messaging import daily_cap, history, opt_outs
from api.messaging.keywords import Keyword, classify
from api.messaging.models import Channel, Message, MessageCategory

log = logging.getLogger(__name__)

# A patient writing while staff have the conversation hears back at most this often.
WITH_STAFF_ACK_EVERY = timedelta(hours=1)
RASA_TURN_SECONDS = Histogram("rebook_rasa_turn_seconds", "Rasa REST turn latency")


class InboundTurn:
    """Answers inbound messages; one per worker (it holds the worker's rate-limit storage)."""

    def __init__(self, *, settings: Settings, rasa: RasaClient):
        self.settings = settings
        self.rasa = rasa
        self._limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(settings.redis_url or "memory://"))
        self._inbound_rate = RateLimitItemPerMinute(settings.inbound_rate_per_minute)
        self._notice_rate = RateLimitItemPerHour(1)

    def handle(self, session: Session, conversation: Conversation, message: Message) -> None:
        """One inbound message: the safety screen first, then the inbound rate limit, then at
        most one kind of automatic reply, each within the number's daily cap."""
        text = message.body or ""
        result = safety.screen(text)
        if result.red_flag:
            send_safety_net(session=session, settings=self.settings, conversation=conversation,
                            message=message, result=result)
            return
        if message.attempts > 1 and self._write_recorded(session, conversation, message):
            # An earlier attempt's actions committed (a booking, a handover...): their words
            # are this turn's answer, whatever state they left the conversation in.
            return
        handover = handover_service.open_for_conversation(session=session,
                                                          conversation_id=conversation.id)
        if handover is not None:
            # The message joins the case whatever happens next (a case waiting for the
            # patient goes back in the queue); staff read it in the transcript.
            handover_service.patient_wrote_again(session=session, handover=handover)
        # A caller on the line is answered whatever the text rules say: the carrier keywords,
        # STOP and the daily cap are about sending texts (api/voice speaks the replies).
        on_a_call = conversation.channel is Channel.VOICE
        if handover is not None and on_a_call:
            self._with_staff(session, conversation, message, handover, on_a_call=True)
            return
        if not on_a_call and self._answered_by_house_rules(session, conversation, message,
                                                           handover):
            return
        if on_a_call:
            self._ask_assistant(session, conversation, message)
            return
        daily_cap.hold_number_for_cap(session=session, address=conversation.address)
        if daily_cap.daily_cap_reached(session=session, settings=self.settings,
                                       address=conversation.address):
            replies.withheld_by_cap(session=session, settings=self.settings,
                                    conversation=conversation, message=message,
                                    category=MessageCategory.REPLY)
            return  # the assistant is not asked for replies that could not be sent
        self._ask_assistant(session, conversation, message)

    def _answered_by_house_rules(self, session: Session, conversation: Conversation,
                                 message: Message, handover: Handover | None) -> bool:
        """The rate limit, HELP, STOP, staff having the case, media: whether the turn ends
        here (the assistant is asked only when none of them has the last word)."""
        opted_out = opt_outs.is_opted_out(session=session, address=conversation.address)
        if not self._limiter.hit(self._inbound_rate, "inbound", conversation.address):
            if not opted_out and self._limiter.hit(self._notice_rate, "inbound-notice",
                                                   conversation.address):
                self._reply(session, conversation, message, MessageCategory.SERVICE,
                            texts.text("slow_down", phone=self.settings.bookings_phone))
            return True
        if classify(message.body or "") is Keyword.HELP:
            # Carriers expect HELP to be answered even after STOP (a service message).
            self._reply(session, conversation, message, MessageCategory.SERVICE,
                        opt_outs.help_text(settings=self.settings))
            return True
        if opted_out:
            # After STOP nothing goes out but the safety net and the keyword answers; the
            # message still reaches staff in the transcript of any open case.
            log.info("message from an opted-out number; no reply",
                     extra={"message_id": message.id})
            return True
        if handover is not None:
            self._with_staff(session, conversation, message, handover)
            return True
        if message.media:
            self._reply(session, conversation, message, MessageCategory.SERVICE,
                        texts.text("media_not_supported"))
        return not message.body

    def _ask_assistant(self, session: Session, conversation: Conversation,
                       message: Message) -> None:
        """The assistant's turn, retry-safe: the actions' changes and these replies describe
        each other exactly once, however the turn was cut short (api/conversations/turns.py)."""
        # No transaction may stay open across the network call: on SQLite it would hold the
        # write lock (stalling every webhook), on PostgreSQL it would pin row locks.
        session.commit()
        started = time.perf_counter()
        try:
            said = self.rasa.send(sender_id=conversation.public_id, text=message.body or "",
                                  metadata={"channel": conversation.channel.value,
                                            "message_id": message.id})
        except AssistantUnavailable as exc:
            log.warning("assistant unavailable; holding reply and handover",
                        extra={"error": str(exc), "message_id": message.id})
            # An action may have committed before the time-out; one still running finds the
            # message answered once this commits (the row stays locked until then).
            turns.hold_message(session=session, message_id=message.id)
            if not self._write_recorded(session, conversation, message):
                self._assistant_unavailable(session, conversation, message)
            return
        finally:
            RASA_TURN_SECONDS.observe(time.perf_counter() - started)
        # Rasa's actions may have opened a handover or changed the conversation meanwhile.
        session.expire(conversation)
        turns.forget(session=session, message_id=message.id)
        self._write_replies(session, conversation, message, said)

    def _assistant_unavailable(self, session: Session, conversation: Conversation,
                               message: Message) -> None:
        self._reply(session, conversation, message, MessageCategory.HOLDING,
                    texts.text("assistant_unavailable", phone=self.settings.bookings_phone))
        replies.open_gateway_case(session=session, settings=self.settings,
                                  conversation=conversation, message=message,
                                  reason=HandoverReason.ASSISTANT_UNAVAILABLE,
                                  preface="The assistant was unavailable. The patient wrote:")

    def _write_recorded(self, session: Session, conversation: Conversation,
                        message: Message) -> bool:
        """Write what the message's committed actions said, if any did; whether they had."""
        recorded = turns.recorded_replies(session=session, message_id=message.id)
        if not recorded:
            return False
        log.info("the assistant's actions had committed; writing their words",
                 extra={"message_id": message.id})
        session.expire(conversation)
        turns.forget(session=session, message_id=message.id)
        self._write_replies(session, conversation, message, recorded)
        return True

    def _write_replies(self, session: Session, conversation: Conversation, message: Message,
                       said: list[AssistantReply]) -> None:
        for reply in said:
            self._reply(session, conversation, message, MessageCategory.REPLY, reply.text,
                        buttons=reply.buttons or None)

    def _with_staff(self, session: Session, conversation: Conversation, message: Message,
                    handover: Handover, on_a_call: bool = False) -> None:
        """Staff have this conversation (or identity is locked): never silence, never noise.

        The message joins the case (a case waiting for the patient goes back in the queue)
        and the patient hears, at most once an hour, that the team has it and by when.
        """
        log.info("message added to an open handover", extra={"message_id": message.id})
        if not on_a_call and history.sent_since(session=session, conversation_id=conversation.id,
                              category=MessageCategory.HOLDING,
                              since=utcnow() - WITH_STAFF_ACK_EVERY):
            return
        self._reply(session, conversation, message, MessageCategory.HOLDING,
                    texts.text("with_staff_ack", when=texts.answer_by(
                        settings=self.settings, due_at=handover.due_at)))

    def _reply(self, session: Session, conversation: Conversation, message: Message,
               category: MessageCategory, text: str, buttons: list[dict] | None = None) -> None:
        replies.reply(session=session, settings=self.settings, conversation=conversation,
                      message=message, category=category, text=text, buttons=buttons)
