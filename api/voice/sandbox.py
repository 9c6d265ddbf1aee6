"""The sandbox phone's call mode: the forms Twilio would POST to the voice webhooks, signed,
and the TwiML answers read back into what the page shows (said, listening, put through, ended).
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from api.config import Settings
from api.messaging import signature

RING_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/voice/status"
WITHHELD = "withheld"
# Where the page may send an answer: only a gather callback of the voice line, with its seq.
NEXT_PATH = re.compile(r"^/twilio/voice/gather\?seq=[0-9]{1,6}$")
# Where a holding phrase may send us back: only the voice line's own callbacks.
REDIRECT_PATH = re.compile(r"^/twilio/voice/(gather|wait)\?[A-Za-z0-9=&.]{1,80}$")
SANDBOX_TO = "+441614960000"  # a synthetic (Ofcom drama range) number for the line itself


def new_call_sid() -> str:
    """A call SID shaped like Twilio's (CA and 32 hex digits)."""
    return f"CA{secrets.token_hex(16)}"


def call_form(*, settings: Settings, call_sid: str, mobile: str, **extra: str) -> dict[str, str]:
    """The form Twilio would POST for this call (a withheld number arrives as "anonymous")."""
    return {
        "CallSid": call_sid,
        "AccountSid": settings.twilio_account_sid or "ACsandbox",
        "From": "anonymous" if mobile == WITHHELD else mobile,
        "To": SANDBOX_TO,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **extra,
    }


def signed_headers(*, settings: Settings, path: str, form: dict[str, str]) -> dict[str, str]:
    """The X-Twilio-Signature for `form` POSTed to `path` (its query included, as Twilio does)."""
    parts = urlsplit(path)
    url = signature.public_url(public_base_url=settings.public_base_url, path=parts.path,
                               query=parts.query)
    return {"X-Twilio-Signature": signature.sign(
        auth_token=settings.twilio_auth_token.get_secret_value(), url=url, params=form)}


def is_gather_path(path: str) -> bool:
    """True for a gather callback's path and query, the only place an answer may go."""
    return bool(NEXT_PATH.fullmatch(path))


def read_twiml(xml: str) -> dict:
    """What a TwiML answer does: what it says, whether it listens (and how), puts through to a
    person or hangs up; plus `redirect`, the holding phrase's way back (None when listening)."""
    root = ET.fromstring(xml)
    said: list[str] = []
    listening = redirect = None
    put_through = ended = False
    for verb in root:
        if verb.tag == "Say":
            said.append((verb.text or "").strip())
        elif verb.tag == "Gather":
            said += [(say.text or "").strip() for say in verb.iter("Say")]
            digits = verb.get("numDigits")
            listening = {"keypad_only": "speech" not in (verb.get("input") or ""),
                         "digits": int(digits) if digits else None,
                         "next": verb.get("action")}
        elif verb.tag == "Dial":
            put_through = True
        elif verb.tag == "Redirect":
            redirect = (verb.text or "").strip()
        elif verb.tag == "Hangup":
            ended = True
    # After a Gather, the Redirect is only Twilio's fallback should the gather not call back.
    return {"said": [s for s in said if s], "listening": listening,
            "put_through": put_through, "ended": ended,
            "redirect": redirect if listening is None and not (put_through or ended) else None}


def is_redirect_path(path: str) -> bool:
    """True for a holding phrase's way back that the sandbox may follow."""
    return bool(REDIRECT_PATH.fullmatch(path))
