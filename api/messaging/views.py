"""Twilio delivery status callbacks (inbound messages: api.messaging.inbound_webhook)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import ValidationError

from api.deps import SessionDep, TwilioRequest
from api.errors import error_responses
from api.messaging import delivery
from api.messaging.inbound_webhook import EMPTY_TWIML
from api.messaging.schemas import StatusCallback

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio", tags=["twilio"])


def _twiml() -> Response:
    return Response(content=EMPTY_TWIML, media_type="text/xml")


@router.post("/status", summary="Twilio delivery status callbacks",
             responses=error_responses(400, 403, 503))
def status_callback(params: TwilioRequest, session: SessionDep) -> Response:
    """Record a delivery status; failures are followed up by the worker."""
    try:
        callback = StatusCallback.model_validate(params)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail="malformed status callback") from exc
    message = delivery.apply_status_callback(
        session=session, sid=callback.message_sid, twilio_status=callback.message_status,
        error_code=callback.error_code,
    )
    session.commit()
    if message is None:
        log.warning("status callback for an unknown message")
    return _twiml()
