"""The original-mode acknowledgement Rebook answers each message with.

MSH with sender and receiver swapped, MSA-1 AA (taken: applied, or ignored as a duplicate
or an older update), AE (stored and parked for staff: a content error) or AR (stored and
parked: a message type, event or header Rebook cannot take), MSA-2 the received MSH-10,
MSA-3 and an ERR segment (ERR-3 HL7 table 0357's code, ERR-4 severity, ERR-8 the reason)
when it is not AA. The reason names fields and codes, never the patient.
"""

from __future__ import annotations

from datetime import datetime

from hl7.util import generate_message_control_id

from api.config import Settings
from api.db import utcnow
from api.integration.hl7 import fields
from api.integration.hl7.parse import Header

ERROR_WORDS = {"100": "Segment sequence error", "101": "Required field missing",
               "102": "Data type error", "103": "Table value not found",
               "200": "Unsupported message type", "201": "Unsupported event code",
               "207": "Application internal error"}


def build(*, settings: Settings, header: Header | None, code: str, reason: str = "",
          error_code: str = "207", location: str = "", now: datetime | None = None) -> str:
    """The ACK's text (segments separated by \\r) for a message (header None: unreadable)."""
    ours = (settings.hl7_sending_application, settings.hl7_sending_facility)
    theirs = (settings.hl7_receiving_application, settings.hl7_receiving_facility)
    sender = header.receiver if header and any(header.receiver) else ours
    receiver = header.sender if header and any(header.sender) else theirs
    event = header.event if header else ""
    lines = [fields.msh(sender=sender, receiver=receiver, at=now or utcnow(),
                        message_type=f"ACK^{fields.escape(event)}^ACK",
                        control_id=generate_message_control_id(),
                        version=header.version if header else "2.5"),
             fields.segment("MSA", code, fields.escape(header.control_id if header else ""),
                            fields.escape(reason[:80]) if code != "AA" else "")]
    if code != "AA":
        words = ERROR_WORDS.get(error_code, "")
        lines.append(fields.segment("ERR", "", fields.escape(location),
                                    f"{error_code}^{words}^HL70357", "E", "", "", "",
                                    fields.escape(reason)))
    return "\r".join(lines) + "\r"


def read(text: str) -> tuple[str, str, str, str]:
    """An answer's (MSA-1 code, MSA-2 control id, reason, error codes "ERR-3 ERR-5")."""
    parsed = fields.message(text)
    msa = fields.first(parsed, "MSA")
    if msa is None:
        raise ValueError("the answer has no MSA segment")
    reasons, codes = [], []
    for err in fields.segments(parsed, "ERR"):
        reasons += [err.get(8), err.get(7), err.get(5, 2)]
        codes += [err.get(3, 1), err.get(5, 1)]
    # The most specific words first: the user message, diagnostics, the application's error,
    # MSA-3, and last the standard's generic name for the code.
    reasons += [msa.get(3)] + [err.get(3, 2) for err in fields.segments(parsed, "ERR")]
    reason = next((r for r in reasons if r), "")
    return msa.get(1).upper(), msa.get(2), reason, " ".join(c for c in codes if c)
