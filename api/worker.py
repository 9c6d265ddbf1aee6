"""The worker process: leases conversations and answers their stored messages in order.

What a turn does is the inbound-turn flow (api/flows/inbound_turn.py); the worker owns the
loop around it: assigning messages to conversations, the leases, attempts and parking, the
one commit per turn, and the sweep of failed deliveries (api/flows/delivery_failure.py).

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

from prometheus_client import Counter, Histogram
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.conversations import safety
from api.conversations import service as conversations_service
from api.conversations.models import Conversation
from api.conversations.rasa_client import RasaClient
from api.db import skip_commit_flush
from api.flows import delivery_failure, replies
from api.flows.inbound_turn import InboundTurn
from api.handover.models import HandoverReason
from api.logs import correlation_id
from api.messaging import delivery
from api.messaging.models import Message, MessageStatus
from api.messaging.notify import wait_for_work, wake_workers

log = logging.getLogger(__name__)

MAX_TURN_ATTEMPTS = 3
FAILURE_SWEEP_SECONDS = 1.0  # failed deliveries are followed up within a second or so
# With Redis every stored message wakes a worker, so the database poll is only a safety net;
# without it (the embedded set-up) polling is how work is found: WORKER_POLL_SECONDS.
POLL_SECONDS_WITH_WAKEUPS = 1.0
TURN_SECONDS = Histogram("rebook_worker_turn_seconds", "Whole inbound turn, screen to outbox")
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
        self._numbers_in_flight: dict[int, str] = {}  # conversation id -> the patient's number
        self._last_failure_sweep = 0.0
        self.turn = InboundTurn(settings=settings, rasa=rasa)
        # Set when the process is told to stop (SIGTERM): a turn under way finishes, and its
        # conversation's lease goes back at once instead of on to the next message.
        self._stop = threading.Event()

    # -- the loop ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Assign new messages, start turns for free conversations; how many were started."""
        self._in_flight = {cid: f for cid, f in self._in_flight.items() if not f.done()}
        self._numbers_in_flight = {cid: n for cid, n in self._numbers_in_flight.items()
                                   if cid in self._in_flight}
        with self.session_factory() as session:
            skip_commit_flush(session)  # a lost assignment is simply made again
            parked = conversations_service.assign_inbound(session=session)
            session.commit()
            if parked:
                MESSAGES_PARKED.labels("assign").inc(parked)
            candidates = conversations_service.conversations_with_work(session=session,
                                                                       owner=self.name)
        started = 0
        for conversation_id, number in candidates:
            if len(self._in_flight) >= self._concurrency:
                break
            if conversation_id in self._in_flight:
                continue
            if number in self._numbers_in_flight.values():
                # One number's SMS and WhatsApp conversations take turns here: side by side,
                # both could pass the daily cap's check before either's reply was written.
                continue
            # The lease is taken in the turn's own first transaction (claim_next_message):
            # one commit fewer per turn, and a worker that loses the race simply finds none.
            future = self._pool.submit(self.handle_conversation, conversation_id)
            # A message that arrived while this conversation was in flight here was skipped
            # above; waking a worker when it finishes picks it up without waiting for a poll.
            future.add_done_callback(lambda _: wake_workers(settings=self.settings))
            self._in_flight[conversation_id] = future
            self._numbers_in_flight[conversation_id] = number
            started += 1
        if time.monotonic() - self._last_failure_sweep >= FAILURE_SWEEP_SECONDS:
            self._last_failure_sweep = time.monotonic()
            self.handle_failed_deliveries()
        return started

    def run_forever(self, stop: threading.Event) -> None:
        self._stop = stop
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
        # Turns under way finish (each then gives its lease back); none starts any more.
        self._pool.shutdown(wait=True, cancel_futures=True)
        log.info("worker stopped", extra={"worker": self.name})

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
        leaves the message pending for the next lease-holder. A worker told to stop gives the
        lease up after the turn under way, so another takes the next message at once.
        """
        if self._stop.is_set():
            return
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
                        self.turn.handle(session, conversation, message)
                        message.status = MessageStatus.PROCESSED
                    TURN_SECONDS.observe(time.perf_counter() - started)
                    claimed = self._claim_next_unless_stopping(session, conversation_id)
                    session.commit()
        except Exception:
            log.exception("turn failed; the message stays pending for a retry")
            with self.session_factory() as session:
                conversations_service.release_lease(
                    session=session, conversation_id=conversation_id, owner=self.name)
                session.commit()

    def _claim_next_unless_stopping(self, session: Session, conversation_id: int
                                    ) -> tuple[Conversation, Message] | None:
        if self._stop.is_set():
            conversations_service.release_lease(
                session=session, conversation_id=conversation_id, owner=self.name)
            return None
        return self._claim_next(session, conversation_id)

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
                replies.open_gateway_case(
                    session=session, settings=self.settings, conversation=conversation,
                    message=message, reason=HandoverReason.NOT_UNDERSTOOD,
                    preface="This message could not be processed automatically:")
        except Exception:
            log.exception("could not open a handover for a parked message",
                          extra={"message_id": message.id})

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
                        handled += delivery_failure.follow_up(
                            session=session, settings=self.settings, failed=failed)
                except Exception:
                    log.exception("delivery failure follow-up failed; tried again later",
                                  extra={"message_id": failed.id})
            session.commit()
        return handled
