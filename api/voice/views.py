"""POST /twilio/voice and its callbacks: Twilio's voice webhooks, signature-checked like the
messaging ones, answered with TwiML (api/voice/line.py does the work)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import ValidationError

from api.deps import TwilioRequest
from api.errors import error_responses
from api.logs import new_correlation_id
from api.voice.line import UnknownCall, VoiceLine
from api.voice.schemas import VoiceForm

log = logging.getLogger(__name__)
# Every answer is TwiML (text/xml), never JSON; refusals are the usual JSON errors.
router = APIRouter(prefix="/twilio/voice", tags=["twilio voice"], default_response_class=Response,
                   responses={**error_responses(400, 403, 404, 503),
                              200: {"description": "TwiML", "content": {"text/xml": {}}}})
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _line(request: Request) -> VoiceLine:
    return request.app.state.voice_line  # made with the app (api.main), like the SMS webhook


def _form(params: dict[str, str]) -> VoiceForm:
    new_correlation_id()
    try:
        return VoiceForm.model_validate(params)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail=f"malformed Twilio voice callback: {fields}") from exc


def _twiml(xml: str) -> Response:
    return Response(content=xml, media_type="text/xml")


async def _answer(coroutine) -> Response:
    try:
        return _twiml(await coroutine)
    except UnknownCall as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such call") from exc


@router.post("", summary="An incoming call")
async def incoming_call(request: Request, params: TwilioRequest) -> Response:
    """Greet the caller and start the identity check."""
    return await _answer(_line(request).incoming(_form(params)))


@router.post("/gather", summary="What the caller said or keyed")
async def gathered(request: Request, params: TwilioRequest,
                   seq: int = Query(ge=1, le=100_000)) -> Response:
    """One turn of the call: answered at once, or after the assistant's turn."""
    return await _answer(_line(request).gather(_form(params), seq))


@router.post("/wait", summary="Back after a holding phrase")
async def waited(request: Request, params: TwilioRequest,
                 seq: int = Query(ge=1, le=100_000),
                 waited: float = Query(default=0.0, ge=0, le=3600)) -> Response:
    """The turn's answer when it is ready, else another holding phrase."""
    return await _answer(_line(request).wait(_form(params), seq, waited))


@router.post("/dialled", summary="A put-through call ended")
async def dialled(request: Request, params: TwilioRequest,
                  seq: int = Query(ge=0, le=100_000)) -> Response:
    """Nobody answered the transfer: a call-back instead."""
    return await _answer(_line(request).dialled(_form(params)))


@router.post("/whisper", summary="Said to the member of staff before a transfer connects")
async def whisper(request: Request, params: TwilioRequest,
                  case: int = Query(ge=1)) -> Response:
    """The case number, reason and summary, read to the person answering."""
    _form(params)
    return _twiml(await _line(request).whisper(case))


@router.post("/status", summary="Twilio call status callbacks")
async def call_status(request: Request, params: TwilioRequest) -> Response:
    """A finished call: its length and outcome are recorded."""
    await _line(request).status(_form(params))
    return _twiml(EMPTY)
