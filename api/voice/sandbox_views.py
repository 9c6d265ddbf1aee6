"""The sandbox phone's call mode (MESSAGING_MODE=sandbox only): typed words stand in for
speech and buttons for the keypad, posted as Twilio would to the real, signed voice webhooks."""

from __future__ import annotations

from typing import Literal

import httpx
from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field, model_validator

from api.config import Settings
from api.deps import SettingsDep
from api.errors import error_responses
from api.fields import Text
from api.voice import sandbox

router = APIRouter(prefix="/sandbox", tags=["sandbox"], responses=error_responses(422, 503))
MAX_REDIRECTS = 10
SANDBOX_CONFIDENCE = "0.95"
SANDBOX_DURATION = "60"  # seconds; the sandbox does not time its calls


class SandboxCall(BaseModel):
    mobile: str = Field(pattern=r"^(\+[1-9][0-9]{6,14}|withheld)$")
    action: Literal["ring", "say", "press", "silence", "hang_up"]
    text: Text = Field(default="", max_length=500)
    digits: str = Field(default="", pattern=r"^[0-9*#]{0,12}$")
    call_sid: str = Field(default="", pattern=r"^(CA[0-9a-f]{32})?$")
    # The previous answer's gather path: declared in the schema, so a wrong one is a 422.
    next: str = Field(default="", max_length=100,
                      pattern=r"^(/twilio/voice/gather\?seq=[1-9][0-9]{0,5})?$")

    @model_validator(mode="after")
    def _complete(self) -> SandboxCall:
        if self.action != "ring" and not self.call_sid:
            raise ValueError("call_sid is needed for all but ring")
        if self.action == "say" and not self.text.strip():
            raise ValueError("text is needed to say something")
        if self.action == "press" and not self.digits:
            raise ValueError("digits are needed to press keys")
        if self.action in ("say", "press", "silence") and not self.next:
            raise ValueError("next is needed: the line's /twilio/voice/gather?seq=N")
        return self


class Listening(BaseModel):
    keypad_only: bool
    digits: int | None
    next: str


class CallAnswer(BaseModel):
    call_sid: str
    said: list[str]
    listening: Listening | None
    put_through: bool
    ended: bool


def _request(payload: SandboxCall) -> tuple[str, dict[str, str]]:
    """Where this action posts, and the form's own fields."""
    if payload.action == "ring":
        return sandbox.RING_PATH, {"CallStatus": "ringing"}
    if payload.action == "hang_up":
        return sandbox.STATUS_PATH, {"CallStatus": "completed",
                                     "CallDuration": SANDBOX_DURATION}
    if not sandbox.is_gather_path(payload.next):
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail="next must be the line's /twilio/voice/gather?seq=N")
    if payload.action == "say":
        return payload.next, {"SpeechResult": payload.text.strip(),
                              "Confidence": SANDBOX_CONFIDENCE}
    if payload.action == "press":
        return payload.next, {"Digits": payload.digits}
    return payload.next, {}  # silence: Twilio's actionOnEmptyResult


async def _post(client: httpx.AsyncClient, settings: Settings, path: str,
                form: dict[str, str]) -> str:
    response = await client.post(path, data=form, headers=sandbox.signed_headers(
        settings=settings, path=path, form=form))
    if response.status_code != 200:
        raise HTTPException(response.status_code, detail=response.text[:200])
    return response.text


@router.post("/call", response_model=CallAnswer, responses=error_responses(400, 403, 404))
async def call_the_line(payload: SandboxCall, request: Request,
                        settings: SettingsDep) -> dict:
    """One step of a sandbox call through the real voice webhooks, redirects followed."""
    call_sid = payload.call_sid or sandbox.new_call_sid()
    path, extra = _request(payload)

    def form(**fields: str) -> dict[str, str]:
        return sandbox.call_form(settings=settings, call_sid=call_sid, mobile=payload.mobile,
                                 **fields)

    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox",
                                 timeout=60) as client:
        answer = sandbox.read_twiml(await _post(client, settings, path, form(**extra)))
        said = list(answer["said"])
        for _ in range(MAX_REDIRECTS):  # holding phrases: Twilio comes straight back
            if not answer["redirect"] or not sandbox.is_redirect_path(answer["redirect"]):
                break
            answer = sandbox.read_twiml(await _post(client, settings, answer["redirect"],
                                                    form()))
            said += answer["said"]
        ended = answer["ended"] or payload.action == "hang_up"
        if answer["ended"]:  # the line hung up: Twilio reports the finished call
            await _post(client, settings, sandbox.STATUS_PATH,
                        form(CallStatus="completed", CallDuration=SANDBOX_DURATION))
    return {"call_sid": call_sid, "said": said, "listening": answer["listening"],
            "put_through": answer["put_through"], "ended": ended}
