"""Twilio webhooks: persist, then acknowledge. The work happens in the worker."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from api.deps import SessionDep, SettingsDep, TwilioRequest
from api.logs import new_correlation_id
from api.messaging import service as messaging_service
from api.messaging.notify import wake_workers
from api.messaging.schemas import InboundMessage, StatusCallback

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio", tags=["twilio"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twiml() -> Response:
    return Response(content=EMPTY_TWIML, media_type="text/xml")


def _parse_inbound(params: dict[str, str]) -> InboundMessage:
    media = [params[f"MediaUrl{i}"] for i in range(10) if f"MediaUrl{i}" in params]
    try:
        return InboundMessage.model_validate({**params, "media_urls": media})
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail=f"malformed Twilio message: {fields}") from exc


@router.post("/messages", summary="Inbound SMS and WhatsApp messages")
def inbound_message(params: TwilioRequest, session: SessionDep, settings: SettingsDep) -> Response:
    """Store the message (once per MessageSid) and acknowledge with empty TwiML."""
    new_correlation_id()
    inbound = _parse_inbound(params)
    try:
        message_id = messaging_service.record_inbound(session=session, inbound=inbound)
        if message_id is not None:
            # STOP must take effect at once, not after the queue ahead of it.
            messaging_service.handle_keyword(session=session, message_id=message_id,
                                             body=inbound.text, settings=settings)
        session.commit()
    except OperationalError as exc:
        # Not stored: a 503 makes Twilio retry later, so nothing is lost.
        session.rollback()
        log.error("could not store inbound message", extra={"error": type(exc).__name__},
                  exc_info=True)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="try again") from exc
    if message_id is None:
        log.info("duplicate inbound webhook ignored")
    else:
        log.info("inbound stored", extra={"message_id": message_id, "channel": inbound.channel})
        wake_workers(settings=settings)
    return _twiml()


@router.post("/status", summary="Twilio delivery status callbacks")
def status_callback(params: TwilioRequest, session: SessionDep) -> Response:
    """Record a delivery status; failures are followed up by the worker."""
    try:
        callback = StatusCallback.model_validate(params)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="malformed status callback") from exc
    message = messaging_service.apply_status_callback(
        session=session, sid=callback.message_sid, twilio_status=callback.message_status,
        error_code=callback.error_code,
    )
    session.commit()
    if message is None:
        log.warning("status callback for an unknown message")
    return _twiml()
