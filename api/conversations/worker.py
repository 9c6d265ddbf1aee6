"""The worker: takes stored inbound messages through the safety screen and the assistant.

Each conversation is leased to one worker at a time (any number of processes may run),
and its messages are handled strictly one by one in arrival order. A message is marked
processed in the same transaction as the replies and handovers it causes, so a worker
killed mid-turn leaves it pending and the next lease-holder answers it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from limits import RateLimitItemPerHour, RateLimitItemPerMinute, storage, strategies
from prometheus_client import Counter, Histogram
from sqlalchemy.orm import Session, sessionmaker

from api import texts
from api.config import Settings
from api.conversations import safety, turns
from api.conversations import service as conversations_service
from api.conversations.models import Conversation
from api.conversations.rasa_client import AssistantReply, AssistantUnavailable, RasaClient
from api.db import skip_commit_flush, utcnow
from api.handover import service as handover_service
from api.handover.models import Handover, HandoverReason, Urgency
from api.logs import correlation_id
from api.messaging import daily_cap, delivery, history, numbers, opt_outs, outbox
from api.messaging.dispatcher import LOCAL_OPTED_OUT, PARKED_BY_DAILY_CAP
from api.messaging.keywords import Keyword, classify
from api.messaging.models import Channel, Message, MessageCategory, MessageStatus
from api.messaging.notify import wait_for_work, wake_workers

log = logging.getLogger(__name__)

MAX_TURN_ATTEMPTS = 3
# A patient writing while staff have the conversation hears back at most this often.
WITH_STAFF_ACK_EVERY = timedelta(hours=1)
FAILURE_SWEEP_SECONDS = 1.0  # failed deliveries are followed up within a second or so
# With Redis every stored message wakes a worker, so the database poll is only a safety net;
# without it (the embedded set-up) polling is how work is found: WORKER_POLL_SECONDS.
POLL_SECONDS_WITH_WAKEUPS = 1.0
# The number opted out (locally or at the carrier: 21610 SMS, 63014 WhatsApp): respecting
# it is the right outcome for everything but the safety net.
OPTED_OUT_CODES = frozenset({LOCAL_OPTED_OUT, 63014})
RASA_TURN_SECONDS = Histogram("rebook_rasa_turn_seconds", "Rasa REST turn latency")
TURN_SECONDS = Histogram("rebook_worker_turn_seconds", "Whole inbound turn, screen to outbox")
REPLIES_WITHHELD = Counter(
    "rebook_replies_withheld_total",
    "Automatic replies not queued: daily_cap (the number had its day's share) or "
    "safety_net_repeat (the same net went minutes ago while its handover is open)",
    ["reason", "category"])
MESSAGES_PARKED = Counter("rebook_worker_parked_total",
                          "Inbound messages parked for staff instead of blocking the queue",
                          ["stage"])


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(self, *, settings: Settings, session_factory: sessionmaker[Session],
                 rasa: RasaClient, name: str | None = None, concurrency: int = 4):
        self.settings = settings
        self.session_factory = session_factory
        self.rasa = rasa
        self.name = name or worker_name()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="turn")
        self._concurrency = concurrency
        self._in_flight: dict[int, Future] = {}
        self._last_failure_sweep = 0.0
        limiter_storage = storage.storage_from_string(settings.redis_url or "memory://")
        self._limiter = strategies.MovingWindowRateLimiter(limiter_storage)
        self._inbound_rate = RateLimitItemPerMinute(settings.inbound_rate_per_minute)
        self._notice_rate = RateLimitItemPerHour(1)

    # -- the loop ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Assign new messages, start turns for free conversations; how many were started."""
        self._in_flight = {cid: f for cid, f in self._in_flight.items() if not f.done()}
        with self.session_factory() as session:
            skip_commit_flush(session)  # a lost assignment is simply made again
            parked = conversations_service.assign_inbound(session=session)
            session.commit()
            if parked:
                MESSAGES_PARKED.labels("assign").inc(parked)
            candidates = conversations_service.conversations_with_work(session=session,
                                                                       owner=self.name)
        started = 0
        for conversation_id in candidates:
            if len(self._in_flight) >= self._concurrency:
                break
            if conversation_id in self._in_flight:
                continue
            # The lease is taken in the turn's own first transaction (claim_next_message):
            # one commit fewer per turn, and a worker that loses the race simply finds none.
            future = self._pool.submit(self.handle_conversation, conversation_id)
            # A message that arrived while this conversation was in flight here was skipped
            # above; waking a worker when it finishes picks it up without waiting for a poll.
            future.add_done_callback(lambda _: wake_workers(settings=self.settings))
            self._in_flight[conversation_id] = future
            started += 1
        if time.monotonic() - self._last_failure_sweep >= FAILURE_SWEEP_SECONDS:
            self._last_failure_sweep = time.monotonic()
            self.handle_failed_deliveries()
        return started

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker started", extra={"worker": self.name})
        safety.warm_up()
        idle_wait = (POLL_SECONDS_WITH_WAKEUPS if self.settings.redis_url
                     else self.settings.worker_poll_seconds)
        while not stop.is_set():
            try:
                started = self.run_once()
            except Exception:
                log.exception("worker loop error")
                started = 0
            if not started:
                wait_for_work(settings=self.settings, timeout=idle_wait)
        self._pool.shutdown(wait=True)

    def drain(self, timeout: float = 30.0) -> None:
        """Run until nothing is pending or in flight (tests and one-shot use)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = self.run_once()
            for future in list(self._in_flight.values()):
                future.result()
            if not started and not self._in_flight_pending():
                return
        raise TimeoutError("worker did not drain in time")

    def _in_flight_pending(self) -> bool:
        return any(not f.done() for f in self._in_flight.values())

    # -- one conversation -------------------------------------------------------------------

    def handle_conversation(self, conversation_id: int) -> None:
        """Answer every pending message of one conversation, oldest first, while leased.

        Each turn ends with one commit holding its replies, the message marked processed and
        the claim of the next message (or the lease given up), so a worker killed mid-turn
        leaves the message pending for the next lease-holder.
        """
        try:
            with self.session_factory() as session:
                # Losing this commit in a database crash loses only the lease and one count
                # of attempts; the turn's own commit below is fully durable.
                skip_commit_flush(session)
                claimed = self._claim_next(session, conversation_id)
                session.commit()
                while claimed is not None:
                    conversation, message = claimed
                    correlation_id.set(f"msg-{message.id}")
                    started = time.perf_counter()
                    if message.attempts > MAX_TURN_ATTEMPTS:
                        self._give_up(session, conversation, message)
                    else:
                        self.handle_message(session, conversation, message)
                        message.status = MessageStatus.PROCESSED
                    TURN_SECONDS.observe(time.perf_counter() - started)
                    claimed = self._claim_next(session, conversation_id)
                    session.commit()
        except Exception:
            log.exception("turn failed; the message stays pending for a retry")
            with self.session_factory() as session:
                conversations_service.release_lease(
                    session=session, conversation_id=conversation_id, owner=self.name)
                session.commit()

    def _claim_next(self, session: Session,
                    conversation_id: int) -> tuple[Conversation, Message] | None:
        return conversations_service.claim_next_message(
            session=session, conversation_id=conversation_id, owner=self.name,
            seconds=self.settings.worker_lease_seconds)

    def _give_up(self, session: Session, conversation: Conversation, message: Message) -> None:
        """Park a message that failed every attempt, so the conversation's next ones flow."""
        log.error("message failed repeatedly; parked and handed to staff",
                  extra={"message_id": message.id})
        message.status = MessageStatus.PARKED
        message.parked_reason = (f"failed {MAX_TURN_ATTEMPTS} times in the worker; the "
                                 f"worker log has the error (correlation msg-{message.id})")
        MESSAGES_PARKED.labels("turn").inc()
        try:  # the case is a help to staff; whatever broke the turn must not keep it stuck
            with session.begin_nested():
                self._open_case(session, conversation, HandoverReason.NOT_UNDERSTOOD,
                                "This message could not be processed automatically:",
                                message.body)
        except Exception:
            log.exception("could not open a handover for a parked message",
                          extra={"message_id": message.id})

    def handle_message(self, session: Session, conversation: Conversation,
                       message: Message) -> None:
        """One inbound message: the safety screen first, then the inbound rate limit, then at
        most one kind of automatic reply, each within the number's daily cap."""
        text = message.body or ""
        result = safety.screen(text)
        if result.red_flag:
            self._safety_net(session, conversation, message, result)
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
        opted_out = opt_outs.is_opted_out(session=session, address=conversation.address)
        if not self._limiter.hit(self._inbound_rate, "inbound", conversation.address):
            if not opted_out and self._limiter.hit(self._notice_rate, "inbound-notice",
                                                   conversation.address):
                self._reply(session, conversation, message, MessageCategory.SERVICE,
                            texts.text("slow_down", phone=self.settings.bookings_phone))
            return
        if classify(text) is Keyword.HELP:
            # Carriers expect HELP to be answered even after STOP (a service message).
            self._reply(session, conversation, message, MessageCategory.SERVICE,
                        opt_outs.help_text(settings=self.settings))
            return
        if opted_out:
            # After STOP nothing goes out but the safety net and the keyword answers; the
            # message still reaches staff in the transcript of any open case.
            log.info("message from an opted-out number; no reply", extra={
                "message_id": message.id})
            return
        if handover is not None:
            self._with_staff(session, conversation, message, handover)
            return
        if message.media:
            self._reply(session, conversation, message, MessageCategory.SERVICE,
                        texts.text("media_not_supported"))
        if not text:
            return
        daily_cap.hold_number_for_cap(session=session, address=conversation.address)
        if daily_cap.daily_cap_reached(session=session, settings=self.settings,
                                       address=conversation.address):
            self._withheld_by_cap(session, conversation, message, MessageCategory.REPLY)
            return  # the assistant is not asked for replies that could not be sent
        self._ask_assistant(session, conversation, message, text)

    def _ask_assistant(self, session: Session, conversation: Conversation, message: Message,
                       text: str) -> None:
        """The assistant's turn, retry-safe: the actions' changes and these replies describe
        each other exactly once, however the turn was cut short (api/conversations/turns.py)."""
        # No transaction may stay open across the network call: on SQLite it would hold the
        # write lock (stalling every webhook), on PostgreSQL it would pin row locks.
        session.commit()
        started = time.perf_counter()
        try:
            replies = self.rasa.send(sender_id=conversation.public_id, text=text,
                                     metadata={"channel": conversation.channel.value,
                                               "message_id": message.id})
        except AssistantUnavailable as exc:
            log.warning("assistant unavailable; holding reply and handover",
                        extra={"error": str(exc), "message_id": message.id})
            # An action may have committed before the time-out; one still running finds the
            # message answered once this commits (the row stays locked until then).
            turns.hold_message(session=session, message_id=message.id)
            if self._write_recorded(session, conversation, message):
                return
            self._reply(session, conversation, message, MessageCategory.HOLDING,
                        texts.text("assistant_unavailable", phone=self.settings.bookings_phone))
            self._open_case(session, conversation, HandoverReason.ASSISTANT_UNAVAILABLE,
                            "The assistant was unavailable. The patient wrote:", text)
            return
        finally:
            RASA_TURN_SECONDS.observe(time.perf_counter() - started)
        # Rasa's actions may have opened a handover or changed the conversation meanwhile.
        session.expire(conversation)
        turns.forget(session=session, message_id=message.id)
        self._write_replies(session, conversation, message, replies)

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
                       replies: list[AssistantReply]) -> None:
        for reply in replies:
            self._reply(session, conversation, message, MessageCategory.REPLY, reply.text,
                        buttons=reply.buttons or None)

    def _with_staff(self, session: Session, conversation: Conversation, message: Message,
                    handover: Handover) -> None:
        """Staff have this conversation (or identity is locked): never silence, never noise.

        The message joins the case (a case waiting for the patient goes back in the queue)
        and the patient hears, at most once an hour, that the team has it and by when.
        """
        log.info("message added to an open handover", extra={"message_id": message.id})
        if history.sent_since(session=session, conversation_id=conversation.id,
                              category=MessageCategory.HOLDING,
                              since=utcnow() - WITH_STAFF_ACK_EVERY):
            return
        self._reply(session, conversation, message, MessageCategory.HOLDING,
                    texts.text("with_staff_ack", when=texts.answer_by(
                        settings=self.settings, due_at=handover.due_at)))

    def _safety_net(self, session: Session, conversation: Conversation, message: Message,
                    result: safety.ScreenResult) -> None:
        """A red flag: the urgent handover is opened or escalated, and the safety net goes,
        past every rate limit and cap, unless the same net went minutes ago on this open case."""
        categories = ", ".join(result.categories)
        log.warning("red flag screened", extra={"category": categories,
                                                "layers": ",".join(result.layers),
                                                "message_id": message.id})
        group = safety.reply_group(result.categories)
        net = texts.text(f"safety_net_{group}", trust_name=self.settings.trust_name)
        already_open = handover_service.open_for_conversation(session=session,
                                                              conversation_id=conversation.id)
        repeat = (already_open is not None
                  and already_open.reason in handover_service.SAFETY_REASONS
                  and self._same_net_went_recently(session, conversation, net))
        reason = (HandoverReason.SAFEGUARDING if group == "safeguarding"
                  else HandoverReason.RED_FLAG)
        quoted = handover_service.quote_patient(message.body)
        handover = handover_service.open_handover(
            session=session, settings=self.settings, reason=reason,
            urgency=Urgency.URGENT, created_by="safety_screen", conversation_id=conversation.id,
            patient_id=conversation.verified_patient_id,
            summary=(f"Red flag ({categories}). The patient wrote: \u201c{quoted}\u201d"
                     + (" Safety net not repeated (sent minutes ago)." if repeat else "")))
        handover_service.patient_wrote_again(session=session, handover=handover)
        if not repeat:
            self._reply(session, conversation, message, MessageCategory.SAFETY_NET, net)
            return
        minutes = self.settings.safety_net_repeat_minutes
        handover_service.add_system_note(
            session=session, handover=handover, actor="safety_screen",
            action="safety_net_not_repeated", message_id=message.id,
            text=(f"Another red flag ({categories}). The same safety net went to the patient "
                  f"less than {minutes} minutes ago, so it was not sent again; the message is "
                  "in the transcript."))
        REPLIES_WITHHELD.labels("safety_net_repeat", MessageCategory.SAFETY_NET.value).inc()
        log.info("safety net not repeated", extra={"message_id": message.id})

    def _same_net_went_recently(self, session: Session, conversation: Conversation,
                                net: str) -> bool:
        minutes = self.settings.safety_net_repeat_minutes
        return minutes > 0 and history.sent_same_since(
            session=session, conversation_id=conversation.id,
            category=MessageCategory.SAFETY_NET, channel=conversation.channel, text=net,
            since=utcnow() - timedelta(minutes=minutes))

    def _open_case(self, session: Session, conversation: Conversation, reason: HandoverReason,
                   preface: str, patient_text: str) -> None:
        """A high-urgency handover opened by the gateway, quoting what the patient wrote."""
        handover_service.open_handover(
            session=session, settings=self.settings, reason=reason, urgency=Urgency.HIGH,
            created_by="gateway", conversation_id=conversation.id,
            patient_id=conversation.verified_patient_id,
            summary=f"{preface} \u201c{handover_service.quote_patient(patient_text)}\u201d")

    def _reply(self, session: Session, conversation: Conversation, message: Message,
               category: MessageCategory, text: str, buttons: list[dict] | None = None) -> None:
        """Queue an automatic reply; any but the safety net only within the daily cap."""
        if category is not MessageCategory.SAFETY_NET:
            daily_cap.hold_number_for_cap(session=session, address=conversation.address)
        if category is not MessageCategory.SAFETY_NET and daily_cap.daily_cap_reached(
                session=session, settings=self.settings, address=conversation.address):
            self._withheld_by_cap(session, conversation, message, category)
            return
        outbox.queue_message(
            session=session, settings=self.settings, channel=conversation.channel,
            to_address=conversation.address, text=text, buttons=buttons, category=category,
            conversation_id=conversation.id, patient_id=conversation.verified_patient_id,
            reply_to=message)

    def _withheld_by_cap(self, session: Session, conversation: Conversation, message: Message,
                         category: MessageCategory) -> None:
        """The number had its day's share: nothing more goes automatically, and staff hear
        of it once (the assistant pauses while they have the case)."""
        REPLIES_WITHHELD.labels("daily_cap", category.value).inc()
        log.warning("daily cap reached; automatic reply withheld",
                    extra={"message_id": message.id, "category": category.value})
        if handover_service.open_for_conversation(session=session,
                                                  conversation_id=conversation.id) is None:
            handover_service.open_handover(
                session=session, settings=self.settings, reason=HandoverReason.DAILY_CAP,
                urgency=Urgency.NORMAL, created_by="gateway", conversation_id=conversation.id,
                patient_id=conversation.verified_patient_id,
                summary=(f"This number has had {self.settings.daily_cap_per_number} messages "
                         "in 24 hours, the most we send automatically: automatic replies are "
                         "withheld until the oldest is a day old. Reply by hand or call if the "
                         "patient needs it; every message is in the transcript."))

    # -- failed deliveries ------------------------------------------------------------------

    def handle_failed_deliveries(self) -> int:
        """WhatsApp that failed goes again by SMS; SMS that failed puts the patient on the call
        list; a safety net that failed opens an urgent call-back at once."""
        handled = 0
        with self.session_factory() as session:
            for failed in delivery.failed_unhandled(session=session):
                try:
                    # One that cannot be followed up now is tried again on the next sweep,
                    # without holding back the others.
                    with session.begin_nested():
                        handled += self._follow_up(session, failed)
                except Exception:
                    log.exception("delivery failure follow-up failed; tried again later",
                                  extra={"message_id": failed.id})
            session.commit()
        return handled

    def _follow_up(self, session: Session, failed: Message) -> int:
        if not delivery.mark_failure_handled(session=session, message_id=failed.id):
            return 0
        if failed.category is MessageCategory.SAFETY_NET:
            # Whatever the reason, someone phones the patient now; a WhatsApp one also goes
            # again by SMS (a WhatsApp block is not an SMS opt-out).
            self._safety_net_undelivered(session, failed)
            if failed.channel is Channel.WHATSAPP:
                self._resend_by_sms(session, failed)
            return 1
        if failed.error_code in OPTED_OUT_CODES:
            return 1  # the patient said STOP: respecting it is the right outcome
        # Over the daily cap SMS would be refused too: the same number, the same cap.
        if failed.channel is Channel.WHATSAPP and failed.parked_reason != PARKED_BY_DAILY_CAP:
            self._resend_by_sms(session, failed)
            return 1
        self._call_list(session, failed)
        return 1

    def _resend_by_sms(self, session: Session, failed: Message) -> None:
        outbox.queue_message(
            session=session, settings=self.settings, channel=Channel.SMS,
            to_address=numbers.bare_number(failed.to_address),
            text=failed.body, buttons=failed.buttons, category=failed.category,
            conversation_id=failed.conversation_id, patient_id=failed.patient_id)

    def _safety_net_undelivered(self, session: Session, failed: Message) -> None:
        """A safety net that could not reach the patient: someone must phone them now."""
        log.error("safety net not delivered; urgent call-back", extra={
            "message_id": failed.id, "error": failed.error_code})
        handover_service.open_handover(
            session=session, settings=self.settings, reason=HandoverReason.RED_FLAG,
            urgency=Urgency.URGENT, created_by="gateway",
            conversation_id=failed.conversation_id, patient_id=failed.patient_id,
            summary=(f"The safety-net message could not be delivered (error "
                     f"{failed.error_code or failed.status.value}). Phone the patient now."))

    def _call_list(self, session: Session, failed: Message) -> None:
        patients = numbers.patients_on_number(session=session,
                                              address=failed.to_address)
        patient_id = failed.patient_id or (patients[0].id if len(patients) == 1 else None)
        if patient_id and handover_service.open_for_patient(
                session=session, patient_id=patient_id, reason=HandoverReason.DELIVERY_FAILURE):
            return
        urgent = failed.category is MessageCategory.SAFETY_NET
        handover_service.open_handover(
            session=session, settings=self.settings, reason=HandoverReason.DELIVERY_FAILURE,
            urgency=Urgency.URGENT if urgent else Urgency.NORMAL, created_by="gateway",
            conversation_id=failed.conversation_id if urgent else None, patient_id=patient_id,
            summary=(f"A text could not be delivered (status {failed.status.value}, "
                     f"error {failed.error_code or 'none'}). Please call the patient."
                     + ("" if patient_id else f" {len(patients)} patients share this number.")))
        log.info("patient added to the call-back list", extra={"message_id": failed.id})


