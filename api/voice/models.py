"""One row per phone call: where the call is, what it last said, and how it ended.

The conversation (channel "voice", the caller's number) holds the transcript as messages,
exactly like a text conversation; this row holds what only a call has: the stage of the call,
the turn sequence Twilio's callbacks carry, silences and unclear answers counted towards a
person, what was last said (for "repeat"), the options on offer, and the outcome the
dashboard counts (contained, transferred, call-back).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, str_enum, utcnow
from api.messaging.models import ADDRESS_CHARS


class CallStage(enum.StrEnum):
    DOB = "dob"  # asked for the date of birth
    CONFIRM_DOB = "confirm_dob"  # read back a spoken date of birth before checking it
    PERSON = "person"  # several patients share the number: which one is calling
    NHS_NUMBER = "nhs_number"  # withheld or unknown number: the NHS number keyed first
    OFFER_PERSON = "offer_person"  # recorded communication needs: a person at once?
    ASSISTANT = "assistant"  # the assistant has the call
    CONFIRM_CHOICE = "confirm_choice"  # a slot chosen: read back before it is booked
    SAFETY = "safety"  # the safety net was said; only "repeat" is left
    ENDED = "ended"


class CallOutcome(enum.StrEnum):
    CONTAINED = "contained"  # ended with no person needed
    TRANSFERRED = "transferred"  # put through to the bookings team or the clinical line
    CALL_BACK = "call_back"  # a person will call back (out of hours, or no answer)
    SAFETY_NET = "safety_net"  # a red flag: the safety net and an urgent clinician call-back
    ABANDONED = "abandoned"  # hung up before anything was settled


class VoiceCall(Base):
    __tablename__ = "voice_call"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    # The caller's number as Twilio gave it ("anonymous" for withheld numbers).
    caller: Mapped[str] = mapped_column(String(ADDRESS_CHARS))
    withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    stage: Mapped[CallStage] = mapped_column(str_enum(CallStage), default=CallStage.DOB)
    # The turn being answered: each gather callback carries its sequence number, and the
    # caller's answer is stored as a message keyed by CallSid and sequence.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    # The turn whose answer `last_twiml` is: a callback for it (or before) gets it again.
    answered_seq: Mapped[int] = mapped_column(Integer, default=0)
    silences: Mapped[int] = mapped_column(Integer, default=0)
    unclear: Mapped[int] = mapped_column(Integer, default=0)
    identity_failures: Mapped[int] = mapped_column(Integer, default=0)
    # What the call last said (sentences), the options on offer ([{number, title, payload}])
    # and what a confirmation step is about ({"dob": "..."} or {"option": 2}).
    last_said: Mapped[list] = mapped_column(JSON, default=list)
    options: Mapped[list] = mapped_column(JSON, default=list)
    pending: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_twiml: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome))
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handover.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    twilio_status: Mapped[str] = mapped_column(String(32), default="in-progress")


class IdentityFailure(Base):
    """A date of birth that did not match a patient on a call: three in a day lock the
    patient's record for phone checks, whichever number (or withheld number) called."""

    __tablename__ = "voice_identity_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("voice_call.id"))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
