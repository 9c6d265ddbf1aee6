"""Shapes of Twilio's webhooks and of the sandbox API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from api.messaging.models import Channel

MAX_BODY_CHARS = 1600  # Twilio's own limit for one message


class InboundMessage(BaseModel):
    """Twilio's inbound message form (SMS and WhatsApp), validated."""

    message_sid: str = Field(alias="MessageSid", min_length=2, max_length=64)
    from_: str = Field(alias="From", min_length=3, max_length=64)
    to: str = Field(alias="To", min_length=3, max_length=64)
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
        # No phone sends NUL; the database could not store it, so it is refused up front.
        if value is not None and "\x00" in value:
            raise ValueError("contains a NUL character")
        return value

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

    message_sid: str = Field(alias="MessageSid", min_length=2, max_length=64)
    message_status: str = Field(alias="MessageStatus", max_length=32)
    error_code: int | None = Field(default=None, alias="ErrorCode")


class SandboxMessageOut(BaseModel):
    """One recorded outbound message (the public sandbox contract)."""

    to: str
    from_: str = Field(serialization_alias="from")
    channel: Channel
    body: str
    status: str
    created_at: datetime
