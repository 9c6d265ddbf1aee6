"""Twilio's voice webhook forms, validated (lengths are the columns' own)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from api.messaging.schemas import MAX_BODY_CHARS, SID_CHARS


class VoiceForm(BaseModel):
    """The fields Rebook reads from any voice callback; Twilio sends many more."""

    call_sid: str = Field(alias="CallSid", min_length=2, max_length=SID_CHARS)
    from_: str = Field(default="", alias="From", max_length=64)
    call_status: str = Field(default="", alias="CallStatus", max_length=32)
    speech: str = Field(default="", alias="SpeechResult", max_length=MAX_BODY_CHARS)
    confidence: float | None = Field(default=None, alias="Confidence", ge=0, le=1)
    digits: str = Field(default="", alias="Digits", max_length=32, pattern=r"^[0-9*#w]*$")
    call_duration: int | None = Field(default=None, alias="CallDuration", ge=0)
    dial_status: str = Field(default="", alias="DialCallStatus", max_length=32)

    @field_validator("call_sid", "from_", "speech", "call_status", "dial_status")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("NUL character")
        return value

    @field_validator("digits")
    @classmethod
    def _without_terminator(cls, value: str) -> str:
        return value.rstrip("#")
