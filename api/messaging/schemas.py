"""Shapes of Twilio's webhooks and of the sandbox API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from api.messaging.models import ADDRESS_CHARS, Channel, Direction, MessageCategory

MAX_BODY_CHARS = 1600  # Twilio's own limit for one message
# Twilio's SIDs are 34 characters; the column (provider_sid) holds 64.
SID_CHARS = 64
# Twilio's media URLs are about 150 characters; anything near this is not Twilio.
MAX_MEDIA_URL_CHARS = 1000


def _refuse_nul(value: str | None) -> str | None:
    # No phone or Twilio sends NUL, and PostgreSQL cannot store or even compare it (a query
    # with one raises): refused up front, as a 400.
    if value is not None and "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


class InboundMessage(BaseModel):
    """Twilio's inbound message form (SMS and WhatsApp), validated."""

    # Lengths are the columns' own (a longer From once stopped the worker on PostgreSQL).
    message_sid: str = Field(alias="MessageSid", min_length=2, max_length=SID_CHARS)
    from_: str = Field(alias="From", min_length=3, max_length=ADDRESS_CHARS)
    to: str = Field(alias="To", min_length=3, max_length=ADDRESS_CHARS)
    body: str = Field(default="", alias="Body")
    num_media: int = Field(default=0, alias="NumMedia", ge=0, le=10)
    profile_name: str | None = Field(default=None, alias="ProfileName")
    wa_id: str | None = Field(default=None, alias="WaId")
    button_text: str | None = Field(default=None, alias="ButtonText")
    button_payload: str | None = Field(default=None, alias="ButtonPayload")
    media_urls: list[str] = Field(default_factory=list)

    @field_validator("message_sid", "from_", "to", "body", "profile_name", "wa_id",
                     "button_text", "button_payload")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        return _refuse_nul(value)

    @field_validator("media_urls")
    @classmethod
    def _sane_media_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            _refuse_nul(url)
            if len(url) > MAX_MEDIA_URL_CHARS:
                raise ValueError(f"MediaUrl longer than {MAX_MEDIA_URL_CHARS} characters")
        return urls

    @field_validator("body")
    @classmethod
    def _limit_body(cls, value: str) -> str:
        # Twilio never sends more than 1,600 characters; anything longer is not Twilio.
        if len(value) > MAX_BODY_CHARS:
            raise ValueError(f"Body longer than {MAX_BODY_CHARS} characters")
        return value

    @property
    def channel(self) -> Channel:
        return Channel.WHATSAPP if self.from_.startswith("whatsapp:") else Channel.SMS

    @property
    def address(self) -> str:
        """The patient's address as we store it: E.164, or whatsapp:+44..."""
        return self.from_

    @property
    def text(self) -> str:
        """What the patient said: a pressed button's payload wins over its label."""
        return (self.button_payload or self.body or self.button_text or "").strip()


class StatusCallback(BaseModel):
    """Twilio's delivery status callback."""

    message_sid: str = Field(alias="MessageSid", min_length=2, max_length=SID_CHARS)
    message_status: str = Field(alias="MessageStatus", max_length=32)
    # Twilio's error codes have five digits; the column is a 32-bit integer.
    error_code: int | None = Field(default=None, alias="ErrorCode", ge=0, le=999_999)

    @field_validator("message_sid", "message_status")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return _refuse_nul(value)


class SandboxMessageOut(BaseModel):
    """One recorded outbound message (the public sandbox contract)."""

    to: str
    from_: str = Field(serialization_alias="from")
    channel: Channel
    body: str
    status: str
    created_at: datetime


class SandboxSent(BaseModel):
    """The inbound message the sandbox phone posted to the webhook."""

    message_sid: str
    from_: str = Field(serialization_alias="from")


class SandboxThreadEntry(BaseModel):
    """One message of the demo phone's conversation, either way."""

    direction: str
    body: str
    buttons: list[dict[str, Any]]
    status: str
    created_at: str = Field(description="ISO 8601 date and time, UTC")
    shown_at: str = Field(description="When, as the phone shows it: the trust's time zone "
                                      "(Europe/London), e.g. 'Mon 30 Nov, 14:05'")


class ParkedMessageOut(BaseModel):
    """A message set aside for staff instead of holding up its queue."""

    id: int
    direction: Direction
    channel: Channel
    category: MessageCategory
    address: str = Field(description="The patient's side: who wrote it, or who it was for")
    body: str
    parked_reason: str | None
    conversation_id: int | None
    patient_id: int | None
    created_at: datetime
