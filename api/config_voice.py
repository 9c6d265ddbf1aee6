"""The phone line's settings (docs/voice.md), a part of `api.config.Settings`.

A separate module only to keep config.py readable; Settings inherits these fields, so they are
read from the environment like every other (VOICE_BOOKINGS_NUMBER=+441614960000 ...).
"""

from __future__ import annotations

import phonenumbers
from pydantic import BaseModel, Field, field_validator


class VoiceSettings(BaseModel):
    # Twilio <Say>: a British neural voice, and the language speech is recognised in.
    voice_name: str = "Polly.Amy-Neural"
    voice_language: str = "en-GB"
    # Twilio's speech model for telephone audio; "enhanced" asks for its better model.
    voice_speech_model: str = "phone_call"
    # Seconds of silence before a gather ends with nothing heard.
    voice_gather_timeout_seconds: int = Field(default=6, ge=2, le=30)
    # Speech recognised below this confidence is not acted on (the safety screen still reads
    # it); the caller is asked again, then for the keypad.
    voice_min_confidence: float = Field(default=0.4, ge=0.0, le=1.0)
    # How long a gather callback waits for the worker's answer before saying a holding phrase
    # and redirecting (Twilio waits 15 s for TwiML; callers hear silence meanwhile), and how
    # long in all before the call goes to a person.
    voice_reply_wait_seconds: float = Field(default=3.0, gt=0, le=10)
    voice_max_wait_seconds: float = Field(default=20.0, gt=0, le=120)
    # Where calls may be put through: the bookings team (in working hours) and the clinical
    # line (red flags). Only these numbers are ever dialled; empty means call-back instead.
    voice_bookings_number: str = ""
    voice_clinical_number: str = ""
    # The longest a put-through call may last (toll fraud: a transfer cannot run for hours).
    voice_dial_time_limit_seconds: int = Field(default=1800, ge=60, le=4 * 3600)
    # Calls one number may make in an hour before it hears "please call later".
    voice_calls_per_hour: int = Field(default=6, ge=1, le=1000)
    # Off unless the trust enables it (then announced at the start of every call): records
    # put-through calls (Dial record). The assistant's part is kept as a transcript anyway.
    voice_record_calls: bool = False

    @field_validator("voice_bookings_number", "voice_clinical_number")
    @classmethod
    def _e164_or_empty(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"a transfer number must be E.164 (+44...): {exc}") from exc
        if not phonenumbers.is_valid_number(number):
            raise ValueError("a transfer number must be a valid E.164 number (+44...)")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
