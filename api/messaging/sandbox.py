"""The sandbox: a pretend phone that talks to the real, signed webhook."""

from __future__ import annotations

import secrets

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.messaging import signature
from api.messaging.models import Channel, Message
from api.patients.models import Patient

WEBHOOK_PATH = "/twilio/messages"


def demo_phones(*, session: Session, limit: int = 60) -> list[dict]:
    """Synthetic patients to play, with the addresses they can write from."""
    patients = session.scalars(
        select(Patient).where(Patient.mobile.is_not(None), Patient.opted_out.is_(False))
        .order_by(Patient.id).limit(limit)
    )
    return [
        {"label": f"{p.given_name} {p.family_name[0]}. ({p.mobile})", "mobile": p.mobile,
         "whatsapp": p.whatsapp_opt_in}
        for p in patients
    ]


def inbound_form(*, settings: Settings, from_number: str, channel: Channel, body: str) -> dict:
    """The form Twilio would POST for a patient's message."""
    if channel is Channel.WHATSAPP:
        sender, to = f"whatsapp:{from_number}", settings.twilio_whatsapp_from
    else:
        sender, to = from_number, settings.twilio_sms_from
    form = {
        "MessageSid": f"SM{secrets.token_hex(16)}",
        "AccountSid": settings.twilio_account_sid or "ACsandbox",
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
    }
    if channel is Channel.WHATSAPP:
        form |= {"WaId": from_number.lstrip("+"), "ProfileName": "Sandbox patient"}
    return form


def signed_headers(*, settings: Settings, form: dict) -> dict[str, str]:
    """The X-Twilio-Signature Twilio would send with `form`."""
    url = signature.public_url(public_base_url=settings.public_base_url, path=WEBHOOK_PATH)
    return {"X-Twilio-Signature": signature.sign(
        auth_token=settings.twilio_auth_token.get_secret_value(), url=url, params=form)}


def thread(*, session: Session, address: str) -> list[Message]:
    """Both sides of the sandbox phone's conversation, oldest first."""
    # A call's words are stored under the caller's number too; they are no text conversation.
    return list(
        session.scalars(
            select(Message)
            .where(or_(Message.from_address == address, Message.to_address == address),
                   Message.channel != Channel.VOICE)
            .order_by(Message.id)
        )
    )
