"""Settings for running beyond one machine (docs/operations.md, "Beyond one machine"), a part
of `api.config.Settings`.

A separate module only to keep config.py readable; Settings inherits these fields, so they are
read from the environment like every other (DATABASE_POOLER=pgbouncer ...).
"""

from __future__ import annotations

from typing import Literal

import phonenumbers
from pydantic import BaseModel, field_validator


class ScaleSettings(BaseModel):
    # What sits between the processes and PostgreSQL. `pgbouncer` (transaction pooling): no
    # server-side prepared statements, since each transaction may get another server
    # connection (the code keeps no other session state: docs/operations.md).
    database_pooler: Literal["none", "pgbouncer"] = "none"
    # A pool of SMS senders (comma-separated E.164 long codes): each patient's number is
    # always written to from the same one of them, and sends are paced per sender at
    # SEND_RATE_PER_SECOND. Empty: every SMS comes from TWILIO_SMS_FROM.
    twilio_sms_senders: str = ""

    @field_validator("twilio_sms_senders")
    @classmethod
    def _e164_list(cls, value: str) -> str:
        senders = []
        for raw in (part.strip() for part in value.split(",")):
            if not raw:
                continue
            try:
                number = phonenumbers.parse(raw, None)
            except phonenumbers.NumberParseException as exc:
                raise ValueError(f"TWILIO_SMS_SENDERS must be E.164 numbers (+44...): {exc}"
                                 ) from exc
            if not phonenumbers.is_possible_number(number):
                raise ValueError("TWILIO_SMS_SENDERS must be E.164 numbers (+44...)")
            senders.append(phonenumbers.format_number(number,
                                                      phonenumbers.PhoneNumberFormat.E164))
        return ",".join(dict.fromkeys(senders))

    @property
    def sms_senders(self) -> tuple[str, ...]:
        """The SMS sender pool, in the order given (empty when there is none)."""
        return tuple(self.twilio_sms_senders.split(",")) if self.twilio_sms_senders else ()
