"""The MLLP listener: each ADT or SIU message stored raw, then applied, then acknowledged.

For each message, in a worker thread so the event loop never waits on the database:
1. store it raw (`inbound.receive`, message id MSH-10) and commit: from here it cannot be lost;
2. parse and apply it (`inbound.apply`) and commit;
3. answer AA (applied, or ignored as older or not this adapter's data), AE (parked for
   staff: the exception holds the raw message) or AR (a type or header Rebook cannot take:
   stored and parked too, never dropped).
A resent control id is answered as the first time without applying twice; one stored but
never applied (the process died in between) is applied then, and at every start.
When the database cannot be reached the connection closes unanswered: the sender resends.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable

from hl7.mllp import start_hl7_server
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.config import Settings
from api.integration import inbound
from api.integration.hl7 import ack, mllp, parse
from api.integration.models import Adapter, InboundStatus, IntegrationException, PasInbound

log = logging.getLogger(__name__)

# A parked record's reason and the HL7 error code (table 0357) its AE carries.
PARKED_CODES = {"unknown_patient": "204", "unknown_code": "204", "unknown_session": "204",
                "missing_code": "101", "missing_field": "101", "no_nhs_number": "101",
                "missing_date_of_birth": "101"}


class Listener:
    """Takes messages for one database; `serve` runs the MLLP server until `stop` is set."""

    def __init__(self, *, settings: Settings, sessions: Callable[[], Session]):
        self.settings = settings
        self.sessions = sessions
        self._connections: set[asyncio.Task] = set()
        self._busy: set[asyncio.Task] = set()
        self._stopping = False

    # --- one message --------------------------------------------------------------------

    def handle(self, raw: str) -> str | None:
        """Store, apply and answer one message (None: unanswered, the sender resends)."""
        try:
            _, header = parse.read(raw)
        except parse.NotTaken:
            header = None
        message_id = header.control_id if header else (
            "unreadable:" + hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:40])
        with self.sessions() as session:
            try:
                row, duplicate = inbound.receive(
                    session=session, adapter=Adapter.HL7, message_id=message_id, raw=raw,
                    message_type=header.message_type if header else "",
                    event_at=header.event_at if header else None)
                session.commit()
                if duplicate and row.status is not InboundStatus.RECEIVED:
                    return self._answer_again(session, row, header)
                return self._take(session, row, header)
            except DBAPIError as exc:
                session.rollback()
                log.error("HL7 message not answered: database error",
                          extra={"error": type(exc).__name__})
                return None

    def _take(self, session: Session, row: PasInbound, header: parse.Header | None) -> str:
        # A resend racing the first copy on another connection: one applies, one answers.
        session.refresh(row, with_for_update=True)
        if row.status is not InboundStatus.RECEIVED:
            return self._answer_again(session, row, header)
        try:
            records = parse.records(row.raw)
        except parse.NotTaken as exc:
            inbound.park(session=session, inbound=row, reason=_parse_reason(exc),
                         detail=exc.reason)
            session.commit()
            return self._ack(header, exc.ack, exc.reason, exc.code, exc.location)
        try:
            inbound.apply(session=session, settings=self.settings, inbound=row, records=records)
            session.commit()
        except DBAPIError:
            raise
        except Exception as exc:  # a bug or a value the core refused: staff see it, raw
            session.rollback()
            log.error("HL7 message could not be applied", extra={
                "inbound_id": row.id, "error": type(exc).__name__})
            inbound.park(session=session, inbound=row, reason="error",
                         detail=f"Rebook could not apply the message ({type(exc).__name__})")
            session.commit()
        return self._answer_again(session, row, header)

    def _answer_again(self, session: Session, row: PasInbound,
                      header: parse.Header | None) -> str:
        """The answer a stored message has (the same for a resend as the first time)."""
        if row.status is not InboundStatus.PARKED:
            return self._ack(header, "AA")
        try:
            parse.records(row.raw)
        except parse.NotTaken as exc:
            return self._ack(header, exc.ack, exc.reason, exc.code, exc.location)
        reason = session.scalar(select(IntegrationException.reason).where(
            IntegrationException.inbound_id == row.id).order_by(IntegrationException.id.desc())
            .limit(1))
        return self._ack(header, "AE", row.outcome, PARKED_CODES.get(reason, "207"))

    def _ack(self, header: parse.Header | None, code: str, reason: str = "",
             error_code: str = "207", location: str = "") -> str:
        return ack.build(settings=self.settings, header=header, code=code, reason=reason[:250],
                         error_code=error_code, location=location)

    def replay(self) -> int:
        """Apply messages stored but never applied (a listener killed in between)."""
        with self.sessions() as session:
            rows = list(session.scalars(select(PasInbound).where(
                PasInbound.adapter == Adapter.HL7, PasInbound.status == InboundStatus.RECEIVED)
                .order_by(PasInbound.id)))
            for row in rows:
                self._take(session, row, None)
        return len(rows)

    # --- the server ---------------------------------------------------------------------

    async def serve(self, *, host: str, port: int, stop: asyncio.Event,
                    started: Callable[[int], None] | None = None) -> None:
        """Listen until `stop` is set; then finish the messages in hand and close."""
        replayed = await asyncio.to_thread(self.replay)
        server = await start_hl7_server(self._connection, host, port, limit=mllp.BLOCK_LIMIT)
        bound = server.sockets[0].getsockname()[1]
        log.info("HL7 listener started", extra={"port": bound, "replayed": replayed})
        if started is not None:
            started(bound)
        async with server:
            await stop.wait()
            self._stopping = True
            server.close()
            for task in self._connections - self._busy:
                task.cancel()  # idle: waiting for a message that has not started
            await asyncio.gather(*self._connections, return_exceptions=True)
        log.info("HL7 listener stopped", extra={"port": bound})

    async def _connection(self, reader, writer) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            while not self._stopping:
                block = await mllp.read_block(reader)
                if block is None:
                    break
                self._busy.add(task)
                try:
                    answer = await asyncio.to_thread(self.handle, mllp.decode(block))
                    if answer is None:
                        break
                    writer.writeblock(mllp.encode(answer))
                    await writer.drain()
                finally:
                    self._busy.discard(task)
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            log.warning("HL7 connection dropped", extra={"error": type(exc).__name__})
        finally:
            self._connections.discard(task)
            writer.close()


def _parse_reason(exc: parse.NotTaken) -> str:
    return "unsupported_message" if exc.ack == "AR" else "invalid_message"
