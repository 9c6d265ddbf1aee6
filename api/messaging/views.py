"""Twilio delivery status callbacks (inbound messages: api.messaging.inbound_webhook)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import ValidationError

from api.deps import SessionDep, SettingsDep
from api.errors import error_responses
from api.messaging import delivery, signature
from api.messaging.inbound_webhook import EMPTY_TWIML
from api.messaging.schemas import StatusCallback

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio", tags=["twilio"])


async def twilio_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The POSTed form, after checking X-Twilio-Signature against the public URL (else 403)."""
    form = await request.form()
    params = {key: str(value) for key, value in form.multi_items()}
    url = signature.public_url(public_base_url=settings.public_base_url,
                               path=request.url.path, query=request.url.query)
    if not signature.is_valid(auth_token=settings.twilio_auth_token.get_secret_value(),
                              url=url, params=params,
                              signature=request.headers.get("X-Twilio-Signature")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid Twilio signature")
    return params


TwilioRequest = Annotated[dict[str, str], Depends(twilio_form)]


def _twiml() -> Response:
    return Response(content=EMPTY_TWIML, media_type="text/xml")


@router.post("/status", summary="Twilio delivery status callbacks",
             responses=error_responses(400, 403, 503))
def status_callback(params: TwilioRequest, session: SessionDep) -> Response:
    """Record a delivery status; failures are followed up by the worker."""
    try:
        callback = StatusCallback.model_validate(params)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="malformed status callback") from exc
    message = delivery.apply_status_callback(
        session=session, sid=callback.message_sid, twilio_status=callback.message_status,
        error_code=callback.error_code,
    )
    session.commit()
    if message is None:
        log.warning("status callback for an unknown message")
    return _twiml()
