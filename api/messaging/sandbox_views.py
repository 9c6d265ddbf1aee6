"""Sandbox routes (MESSAGING_MODE=sandbox only): the recorded outbox and the demo phone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from api.deps import SessionDep, SettingsDep
from api.errors import error_responses
from api.fields import NO_NUL, Text
from api.messaging import history, sandbox
from api.messaging.models import Channel
from api.messaging.schemas import (
    MAX_BODY_CHARS,
    SandboxMessageOut,
    SandboxSent,
    SandboxThreadEntry,
)
from api.system import localtime

router = APIRouter(prefix="/sandbox", tags=["sandbox"], responses=error_responses(422, 503))
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
STATIC_FILES = {"sandbox.css": "text/css", "sandbox.js": "text/javascript",
                "sandbox_call.js": "text/javascript"}
# The page's script and styles are files of its own, so it runs under the console's policy.
CSP = ("default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
       "form-action 'self'")
# An address as messages store it: +44..., whatsapp:+44... or an email (up to 254 characters).
Address = Annotated[str, Query(min_length=3, max_length=254, pattern=NO_NUL)]


class SandboxSend(BaseModel):
    mobile: Text = Field(min_length=5, max_length=20)
    channel: Channel = Channel.SMS
    body: Text = Field(min_length=1, max_length=MAX_BODY_CHARS)


@router.get("/messages", response_model=list[SandboxMessageOut], response_model_by_alias=True)
def recorded_messages(session: SessionDep, to: Address) -> list[dict]:
    """Outbound messages recorded for one address, oldest first."""
    return [
        {"to": m.to_address, "from_": m.from_address, "channel": m.channel, "body": m.body,
         "status": m.status.value, "created_at": m.created_at}
        for m in history.sent_to(session=session, to_address=to)
    ]


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def phone(request: Request, session: SessionDep) -> HTMLResponse:
    """The phone-like demo page."""
    response = templates.TemplateResponse(
        request, "sandbox.html", {"phones": sandbox.demo_phones(session=session)})
    response.headers["Content-Security-Policy"] = CSP
    return response


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return FileResponse(HERE / "static" / name, media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "max-age=300"})


@router.post("/send", status_code=202, response_model=SandboxSent,
             responses=error_responses(400, 403))
async def send_as_patient(payload: SandboxSend, request: Request, settings: SettingsDep) -> dict:
    """Post a signed inbound message to the real webhook, as Twilio would."""
    form = sandbox.inbound_form(settings=settings, from_number=payload.mobile,
                                channel=payload.channel, body=payload.body)
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        response = await client.post(sandbox.WEBHOOK_PATH, data=form,
                                     headers=sandbox.signed_headers(settings=settings, form=form))
    if response.status_code != 200:
        raise HTTPException(response.status_code, detail=response.text[:200])
    return {"message_sid": form["MessageSid"], "from_": form["From"]}


@router.get("/thread", response_model=list[SandboxThreadEntry])
def conversation_thread(session: SessionDep, settings: SettingsDep,
                        address: Address) -> list[dict]:
    """Both sides of the demo phone's conversation, with the time each was sent or received."""
    return [
        {"direction": m.direction.value, "body": m.body, "buttons": m.buttons or [],
         "status": m.status.value, "created_at": m.created_at.isoformat(),
         "shown_at": f"{localtime.to_local(m.created_at, settings):%a %d %b, %H:%M}"}
        for m in sandbox.thread(session=session, address=address)
    ]
