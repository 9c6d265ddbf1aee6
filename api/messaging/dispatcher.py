"""The dispatcher: sends the outbox, paced per sender, retried with backoff, never twice.

Several dispatchers may run at once. Each claims a batch of queued rows by writing its
name and a lease into them (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: its single
writer lock), sends them, and records the outcome. A dispatcher killed mid-send leaves
rows in `sending` with an expired lease; the next one asks Twilio whether the message
went (find_sent) before sending it again, so a crash neither loses nor doubles it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from prometheus_client import Counter
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, wait_random_exponential

from api.config import Settings
from api.db import utcnow
from api.messaging import daily_cap, numbers, opt_outs, outbox, sender_pool
from api.messaging.delivery import (
    LOCAL_OPTED_OUT,
    LOCAL_OUTSIDE_WINDOW,
    PARKED_BY_DAILY_CAP,
)
from api.messaging.models import Channel, Direction, Message, MessageStatus
from api.messaging.senders import Sender, SendFailed, SendResult

log = logging.getLogger(__name__)

# Long enough for a claimed batch to be sent at the slowest configured pace plus a REST
# timeout; short enough that a killed dispatcher's batch is picked up again promptly.
CLAIM_LEASE = timedelta(seconds=20)
# Persisted retry backoff: full jitter, exponential from about a second, capped at 10 minutes.
_BACKOFF = wait_random_exponential(multiplier=0.5, max=600)
MESSAGES_PARKED = Counter("rebook_dispatcher_parked_total",
                          "Outbound messages parked for staff, by why", ["reason"])


class RefusalKind(Enum):
    """Why the dispatcher itself will not send a message now."""

    OUTSIDE_SEND_WINDOW = "outside_send_window"  # unsolicited, at night: wait for the window
    OPTED_OUT = "opted_out"  # the number opted out: fails, as Twilio would
    WHATSAPP_WINDOW_CLOSED = "whatsapp_window_closed"  # free text outside the 24 hours: fails
    DAILY_CAP = "daily_cap"  # the number had its day's messages: parked for staff


@dataclass(frozen=True)
class Refusal:
    """A refusal and, when it fails the message, the Twilio error code recorded for it."""

    kind: RefusalKind
    error_code: int | None = None


OUTSIDE_SEND_WINDOW = Refusal(RefusalKind.OUTSIDE_SEND_WINDOW)
OPTED_OUT = Refusal(RefusalKind.OPTED_OUT, error_code=LOCAL_OPTED_OUT)
WHATSAPP_WINDOW_CLOSED = Refusal(RefusalKind.WHATSAPP_WINDOW_CLOSED,
                                 error_code=LOCAL_OUTSIDE_WINDOW)
DAILY_CAP = Refusal(RefusalKind.DAILY_CAP)


def dispatcher_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


def backoff_delay(attempts: int) -> float:
    """Exponential backoff with full jitter (tenacity's), so retries of many rows do not align."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = attempts
    return _BACKOFF(state)


class Dispatcher:
    def __init__(self, *, settings: Settings, session_factory: sessionmaker[Session],
                 sender: Sender, name: str | None = None, batch_size: int = 50,
                 concurrency: int = 8):
        self.settings = settings
        self.session_factory = session_factory
        self.sender = sender
        self.name = name or dispatcher_name()
        self.batch_size = batch_size
        self.concurrency = concurrency
        # Per sender, shared by every dispatcher through Redis when REDIS_URL is set.
        self._pacer = sender_pool.SenderPacer(rate_per_second=settings.send_rate_per_second,
                                              storage_url=settings.redis_url or "memory://")
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send")
        self._in_flight: dict[Future, tuple[int, bool]] = {}  # each send and its claimed row

    # -- claiming ---------------------------------------------------------------------------

    def claim_batch(self, limit: int | None = None) -> list[tuple[int, bool]]:
        """Mark up to `limit` due messages as ours: (id, left mid-send by a dead dispatcher)."""
        now = utcnow()
        with self.session_factory() as session, session.begin():
            query = (
                select(Message.id, Message.status)
                .where(
                    Message.direction == Direction.OUTBOUND,
                    # A call's replies are spoken by the voice webhooks, never sent.
                    Message.channel != Channel.VOICE,
                    or_(
                        (Message.status == MessageStatus.QUEUED) & (Message.next_attempt_at <= now),
                        (Message.status == MessageStatus.SENDING) & (Message.claimed_until < now),
                    ),
                )
                .order_by(Message.id)
                .limit(limit or self.batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = [(row.id, row.status is MessageStatus.SENDING) for row in session.execute(query)]
            if rows:
                session.execute(
                    update(Message)
                    .where(Message.id.in_([message_id for message_id, _ in rows]))
                    .values(status=MessageStatus.SENDING, claimed_by=self.name,
                            claimed_until=now + CLAIM_LEASE)
                )
        return rows

    # -- sending ----------------------------------------------------------------------------

    def _send_paced(self, message: Message) -> SendResult:
        # Retries are persisted (next_attempt_at), never slept on here: a sleeping thread
        # would hold back every other message behind it.
        self._pacer.wait(message.from_address)
        return self.sender.send(message)

    def _refusal(self, session: Session, message: Message) -> Refusal | None:
        """Why this message must not be sent now, if it must not."""
        if message.category in outbox.UNSOLICITED:
            opens = outbox.next_send_time(settings=self.settings)
            if opens > utcnow():
                return OUTSIDE_SEND_WINDOW
        if message.category not in opt_outs.SENT_DESPITE_OPT_OUT and (
            opt_outs.is_opted_out(session=session, address=message.to_address)
        ):
            return OPTED_OUT
        if message.channel is Channel.EMAIL:
            return None  # no carrier window or per-number cap applies to email
        if (message.channel is Channel.WHATSAPP and not message.content_sid
                and not outbox.whatsapp_window_open(session=session,
                                                    address=message.to_address)):
            return WHATSAPP_WINDOW_CLOSED
        if message.category not in daily_cap.NEVER_REFUSED_BY_CAP:
            # The last line of the cap (the worker withholds automatic replies before they
            # are queued): what actually went to the number, both channels, in 24 hours.
            since = utcnow() - daily_cap.DAILY_CAP_WINDOW
            sent_today = session.scalar(
                select(func.count()).select_from(Message).where(
                    Message.to_address.in_(
                        numbers.addresses_of_number(message.to_address)),
                    Message.direction == Direction.OUTBOUND,
                    Message.category.notin_(daily_cap.NOT_COUNTED_BY_CAP),
                    Message.sent_at >= since,
                )
            )
            if sent_today >= self.settings.daily_cap_per_number:
                return DAILY_CAP
        return None

    def process(self, message_id: int, interrupted: bool = False) -> MessageStatus | None:
        """Send one claimed message and record what happened; park it if that breaks."""
        try:
            return self._process(message_id, interrupted)
        except OperationalError:
            raise  # the database is away: the claim runs out and the message is tried again
        except Exception as exc:  # noqa: BLE001 - one bad row must not come back every lease
            log.exception("sending failed unexpectedly; message parked",
                          extra={"message_id": message_id})
            self._park_broken(message_id, f"the dispatcher failed on it ({type(exc).__name__})")
            return MessageStatus.PARKED

    def _park_broken(self, message_id: int, reason: str) -> None:
        with self.session_factory() as session:
            session.execute(
                update(Message).where(Message.id == message_id, Message.claimed_by == self.name)
                .values(status=MessageStatus.PARKED, parked_reason=reason, claimed_by=None,
                        claimed_until=None, updated_at=utcnow()))
            session.commit()
        MESSAGES_PARKED.labels("error").inc()

    def _process(self, message_id: int, interrupted: bool) -> MessageStatus | None:
        with self.session_factory() as session:
            message = session.get(Message, message_id)
            if message is None or message.claimed_by != self.name:
                return None
            if interrupted and message.attempts > 0:
                # A killed dispatcher may have sent it: ask Twilio before sending again.
                try:
                    candidates = self.sender.find_sent(message, since=message.created_at)
                    # Identical texts to one shared number are common (campaigns): a SID
                    # already recorded against another row is not this row's.
                    taken = set(session.scalars(select(Message.provider_sid).where(
                        Message.provider_sid.in_(candidates)))) if candidates else set()
                    found = next((sid for sid in candidates if sid not in taken), None)
                except SendFailed:
                    message.status = MessageStatus.QUEUED  # cannot tell yet; ask again later
                    message.claimed_by = message.claimed_until = None
                    message.next_attempt_at = utcnow() + timedelta(seconds=5)
                    session.commit()
                    return message.status
                if found:
                    self._record(session, message, SendResult(MessageStatus.SENT, sid=found))
                    return message.status
            refusal = self._refusal(session, message)
            if refusal is None:
                return self._send(session, message)
            if refusal.kind is RefusalKind.OUTSIDE_SEND_WINDOW:
                message.status = MessageStatus.QUEUED
                message.claimed_by = message.claimed_until = None
                message.next_attempt_at = outbox.next_send_time(settings=self.settings)
                session.commit()
                return message.status
            if refusal.kind is RefusalKind.DAILY_CAP:
                message.status = MessageStatus.PARKED
                message.parked_reason = PARKED_BY_DAILY_CAP
                message.claimed_by = None
                session.commit()
                MESSAGES_PARKED.labels("daily_cap").inc()
                log.warning("daily cap reached; message parked", extra={"message_id": message.id})
                return message.status
            self._record(session, message,
                         SendResult(MessageStatus.FAILED, error_code=refusal.error_code))
            return message.status

    def _send(self, session: Session, message: Message) -> MessageStatus:
        if message.channel is Channel.SMS and sender_pool.needs_new_sender(
                settings=self.settings, from_address=message.from_address):
            # Queued before the pool changed: from the patient's sender in the pool as it is.
            message.from_address = sender_pool.sms_sender_for(settings=self.settings,
                                                              address=message.to_address)
        message.attempts += 1
        session.commit()  # the attempt counts even if we die in the middle of it
        try:
            result = self._send_paced(message)
        except SendFailed as exc:
            result = SendResult(MessageStatus.QUEUED, error_code=exc.error_code, retryable=True)
        self._record(session, message, result)
        return message.status

    def _record(self, session: Session, message: Message, result: SendResult) -> None:
        now = utcnow()
        message.claimed_by = None
        message.claimed_until = None
        message.error_code = result.error_code
        if result.status in (MessageStatus.SENT, MessageStatus.DELIVERED):
            message.status = result.status
            message.provider_sid = result.sid
            message.sent_at = now
            if result.status is MessageStatus.DELIVERED:
                message.delivered_at = now
        elif result.retryable and message.attempts < self.settings.send_max_attempts:
            message.status = MessageStatus.QUEUED
            message.next_attempt_at = now + timedelta(seconds=backoff_delay(message.attempts))
        elif result.retryable:
            message.status = MessageStatus.PARKED
            message.parked_reason = (f"not sent after {message.attempts} attempts (last "
                                     f"error {result.error_code or 'none'})")
            MESSAGES_PARKED.labels("attempts").inc()
            log.warning("message parked after repeated failures",
                        extra={"message_id": message.id, "error_code": result.error_code})
        else:
            message.status = MessageStatus.FAILED
        session.commit()

    # -- loop -------------------------------------------------------------------------------

    def run_once(self, wait: bool = True) -> int:
        """Claim as many due messages as there are free senders and start them.

        With wait=False (the loop) it returns at once, so the next claim overlaps the sends
        in flight: a batch boundary never leaves the sender idle. Returns how many started.
        """
        self._in_flight = {f: row for f, row in self._in_flight.items() if not f.done()}
        free = self.batch_size - len(self._in_flight)
        claimed = self.claim_batch(limit=free) if free > 0 else []
        for row in claimed:
            self._in_flight[self._pool.submit(self.process, *row)] = row
        if wait:
            for future in list(self._in_flight):
                future.result()
        return len(claimed)

    def run_forever(self, stop: threading.Event, idle_sleep: float = 0.1) -> None:
        log.info("dispatcher started", extra={"dispatcher": self.name})
        while not stop.is_set():
            try:
                started = self.run_once(wait=False)
            except Exception:
                log.exception("dispatcher loop error")
                started = 0
            if not started:
                # Busy (all senders in flight) or idle (nothing due): look again shortly.
                stop.wait(0.01 if self._in_flight else idle_sleep)
        # Stopping (SIGTERM): the sends under way finish; the claimed rows no thread has
        # started go back now rather than when their claim runs out.
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.release_unstarted([row for f, row in self._in_flight.items() if f.cancelled()])
        log.info("dispatcher stopped", extra={"dispatcher": self.name})

    def release_unstarted(self, rows: list[tuple[int, bool]]) -> None:
        """Give back claimed rows (id, left mid-send by a dead dispatcher) never started here."""
        fresh = [message_id for message_id, interrupted in rows if not interrupted]
        mid_send = [message_id for message_id, interrupted in rows if interrupted]
        ours = (Message.claimed_by == self.name, Message.status == MessageStatus.SENDING)
        with self.session_factory() as session:
            if fresh:
                session.execute(update(Message).where(Message.id.in_(fresh), *ours).values(
                    status=MessageStatus.QUEUED, claimed_by=None, claimed_until=None))
            if mid_send:
                # Still 'sending' with a claim already run out: whoever takes it next asks
                # Twilio whether the dead dispatcher's attempt went before sending again.
                session.execute(update(Message).where(Message.id.in_(mid_send), *ours).values(
                    claimed_until=utcnow() - timedelta(seconds=1)))
            session.commit()

