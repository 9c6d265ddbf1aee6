"""POST /twilio/messages as a lean ASGI endpoint: check, persist in a group commit, acknowledge.

Every patient message arrives here, in bursts when a campaign goes out, and Twilio waits for
the answer. The ordinary FastAPI route spent ~1.5 ms of CPU per request on form parsing and
dependency injection and one database commit per message; at 50 requests in flight that
queued into hundreds of milliseconds. So this endpoint:

- reads the urlencoded body itself (Twilio sends nothing else) and checks the signature;
- hands ordinary messages to an `InboundRecorder`, which stores everything that arrived while
  the previous commit was in flight in one INSERT and one commit (a group commit), and only
  then lets each request acknowledge. Nothing is acknowledged before it is durable;
- sends the consent keywords (STOP, START) down the one-at-a-time path, because they change
  the patient's record at once and must not wait behind anything. HELP changes nothing and
  goes with the rest: the worker answers it after the inbound rate limit.

The contract is the same as before: 403 and nothing stored for a bad signature, 400 with a
`detail` for a malformed form, 503 when the database cannot take the message (Twilio retries),
empty TwiML 200 otherwise, once per MessageSid.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qsl

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from api.config import Settings
from api.logs import new_correlation_id
from api.messaging import inbound_store, opt_outs, signature
from api.messaging.keywords import CONSENT_KEYWORDS, classify
from api.messaging.notify import wake_workers
from api.messaging.schemas import InboundMessage

log = logging.getLogger(__name__)

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio's form is a few hundred bytes; 1,600 characters of emoji urlencode to ~20 kB.
MAX_FORM_BYTES = 64 * 1024
MAX_BATCH = 500


class RejectedRequest(Exception):
    """The request is answered with `status` and `detail`, and nothing is stored."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def parse_inbound(params: dict[str, str]) -> InboundMessage:
    """Twilio's form as an InboundMessage, or a 400 naming the fields that are wrong."""
    # PostgreSQL can neither store nor compare NUL, and Twilio never sends it: a form with one
    # anywhere, stored field or not, is not Twilio's.
    with_nul = sorted(name for name, value in params.items() if "\x00" in name + value)
    if with_nul:
        names = ", ".join(name.replace("\x00", "\\0") for name in with_nul)
        raise RejectedRequest(400, f"malformed Twilio message: NUL character in {names}")
    media = [params[f"MediaUrl{i}"] for i in range(10) if f"MediaUrl{i}" in params]
    try:
        return InboundMessage.model_validate({**params, "media_urls": media})
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise RejectedRequest(400, f"malformed Twilio message: {fields}") from exc


class InboundRecorder:
    """Stores inbound messages in group commits on a database thread.

    The first message to arrive when no commit is running is written at once (a batch of
    one, so a quiet system adds no delay); messages arriving while a commit runs wait for it
    and then go together in the next. Each caller gets its own result only after the commit
    that holds its row, so an acknowledgement always means "stored".
    """

    def __init__(self, *, settings: Settings, session_factory: sessionmaker[Session]):
        self.settings = settings
        self.session_factory = session_factory
        self._pending: list[tuple[InboundMessage, asyncio.Future]] = []
        # At most one commit in flight, so batches keep arrival order.
        self._flush_task: asyncio.Task | None = None

    async def record(self, inbound: InboundMessage) -> int | None:
        """Store `inbound`; its id, or None when its MessageSid was stored before."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((inbound, future))
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush_while_pending())
        return await future

    async def _flush_while_pending(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                stored = await loop.run_in_executor(
                    None, self._store, [inbound for inbound, _ in batch])
            except OperationalError as exc:
                # The database is unreachable: every waiting request answers 503.
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except Exception:  # noqa: BLE001 - one bad row must not fail its neighbours
                log.warning("batch insert failed; storing its messages one by one",
                            exc_info=True)
                await self._store_one_by_one(batch)
                continue
            for inbound, future in batch:
                if not future.done():
                    # Within one batch a repeated MessageSid is stored once: the first
                    # request gets the id, the others hear "stored before".
                    future.set_result(stored.pop(inbound.message_sid, None))

    async def _store_one_by_one(self, batch: list[tuple[InboundMessage, asyncio.Future]]) -> None:
        loop = asyncio.get_running_loop()
        for inbound, future in batch:
            try:
                stored = await loop.run_in_executor(None, self._store, [inbound])
            except Exception as exc:  # noqa: BLE001 - this request answers with the error
                future.set_exception(exc)
            else:
                future.set_result(stored.get(inbound.message_sid))

    def _store(self, batch: list[InboundMessage]) -> dict[str, int]:
        """One transaction for the whole batch; MessageSid -> id of the rows it inserted."""
        with self.session_factory() as session:
            try:
                stored = inbound_store.record_inbound_batch(session=session, batch=batch)
                session.commit()
            except Exception:
                session.rollback()
                raise
        if stored:
            wake_workers(settings=self.settings)
        return stored


class InboundWebhook:
    """The ASGI endpoint itself (mounted at POST `path` by api.main)."""

    path = "/twilio/messages"  # also the metrics label (api.system.metrics.RequestTimer)

    def __init__(self, *, settings: Settings, session_factory: sessionmaker[Session]):
        self.settings = settings
        self.recorder = InboundRecorder(settings=settings, session_factory=session_factory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        new_correlation_id()
        try:
            inbound = parse_inbound(await self._verified_form(scope, receive))
            await self._store(inbound)
        except RejectedRequest as rejected:
            await _respond(send, rejected.status, json.dumps({"detail": rejected.detail}).encode(),
                           b"application/json")
            return
        await _respond(send, 200, EMPTY_TWIML, b"text/xml")

    async def _verified_form(self, scope: Scope, receive: Receive) -> dict[str, str]:
        body = await _read_body(receive)
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise RejectedRequest(400, "malformed Twilio message: not UTF-8") from exc
        headers = dict(scope["headers"])
        settings = self.settings
        url = signature.public_url(public_base_url=settings.public_base_url, path=scope["path"],
                                   query=scope["query_string"].decode("latin-1"))
        given = headers.get(b"x-twilio-signature", b"").decode("latin-1")
        if not signature.is_valid(auth_token=settings.twilio_auth_token.get_secret_value(),
                                  url=url, params=params, signature=given):
            raise RejectedRequest(403, "invalid Twilio signature")
        return params

    async def _store(self, inbound: InboundMessage) -> None:
        try:
            if classify(inbound.text) not in CONSENT_KEYWORDS:
                message_id = await self.recorder.record(inbound)
            else:
                # STOP must take effect at once, not after the queue ahead of it.
                message_id = await asyncio.get_running_loop().run_in_executor(
                    None, self._store_keyword, inbound)
        except OperationalError as exc:
            # Not stored: a 503 makes Twilio retry later, so nothing is lost.
            log.error("could not store inbound message",
                      extra={"error": type(exc).__name__}, exc_info=True)
            raise RejectedRequest(503, "try again") from exc
        if message_id is None:
            log.info("duplicate inbound webhook ignored")
        else:
            log.info("inbound stored", extra={"message_id": message_id,
                                              "channel": inbound.channel})

    def _store_keyword(self, inbound: InboundMessage) -> int | None:
        with self.recorder.session_factory() as session:
            try:
                message_id = inbound_store.record_inbound(session=session, inbound=inbound)
                if message_id is not None:
                    opt_outs.handle_keyword(session=session, message_id=message_id,
                                            body=inbound.text, settings=self.settings)
                session.commit()
            except Exception:
                session.rollback()
                raise
        if message_id is not None:
            wake_workers(settings=self.settings)
        return message_id


async def _read_body(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RejectedRequest(400, "the request ended early")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise RejectedRequest(413, "request too large for a Twilio message")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
