"""Bookings back to the PAS as HL7 scheduling requests (SRM), answered by SRR or ACK.

A booking is SRM^S01, a change S03, a cancellation S04 (HL7_SRM_NEW/MODIFY/CANCEL for a PAS
that expects other types). MSH-10 is derived from the request's idempotency key, the same on
every retry, so the PAS recognises a resend; ARQ-1 (placer appointment id) is the key itself.
The answer's MSA-1: AA accepted (the PAS's appointment id from SCH-2, else ARQ-2), AE/AR
refused with MSA-3/ERR's reason (a conflict when ERR-5 or ERR-3 is SLOT_TAKEN: the slot went
to someone else meanwhile); no answer, a refused connection or a timeout: try again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from api.config import Settings
from api.db import utcnow
from api.integration.hl7 import ack, build, fields, mllp
from api.integration.hl7.fields import escape, segment
from api.integration.models import RequestKind
from api.integration.writeback import WriteBack, WriteResult

log = logging.getLogger(__name__)

SLOT_TAKEN = "SLOT_TAKEN"  # the application error code (ERR-5) a PAS answers a taken slot with


def control_id(idempotency_key: str) -> str:
    """MSH-10 for a request: stable across retries, within v2.5's 20 characters."""
    return "RB" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:18]


class Hl7Writer:
    """The PasWriter for HL7: one SRM per request over MLLP to HL7_PEER_HOST:PORT."""

    def __init__(self, *, settings: Settings):
        self.settings = settings

    def message_type(self, kind: RequestKind) -> str:
        return {RequestKind.BOOK: self.settings.hl7_srm_new,
                RequestKind.MODIFY: self.settings.hl7_srm_modify,
                RequestKind.CANCEL: self.settings.hl7_srm_cancel}[kind]

    def request(self, change: WriteBack) -> str:
        """The SRM's text: MSH, ARQ, PID, RGS, AIS, AIL, AIP."""
        s = self.settings
        header = fields.msh(sender=(s.hl7_sending_application, s.hl7_sending_facility),
                            receiver=(s.hl7_receiving_application, s.hl7_receiving_facility),
                            at=utcnow(), message_type=self.message_type(change.kind),
                            control_id=control_id(change.idempotency_key))
        start = fields.dtm(change.start_at)
        arq = segment("ARQ", f"{escape(change.idempotency_key)}^REBOOK",
                      escape(change.appointment_pas_id or ""), "", "", "", "", "",
                      escape(change.appointment_type), str(change.duration_minutes), "min",
                      f"{start}^{start}" if start else "", escape(change.priority))
        lines = [header, arq,
                 build.pid(local_id=change.patient_pas_id, nhs_number=change.nhs_number,
                           family_name=change.family_name, given_name=change.given_name),
                 *build.resources(start_at=change.start_at,
                                  duration_minutes=change.duration_minutes,
                                  specialty_code=change.specialty_code,
                                  site_code=change.site_code,
                                  clinician_code=change.clinician_code)]
        return "\r".join(lines) + "\r"

    def send(self, change: WriteBack) -> WriteResult:
        """Send one request and read the PAS's answer."""
        s = self.settings
        if not s.hl7_peer_host:
            return WriteResult.later("HL7_PEER_HOST is not set: nowhere to send the request")
        try:
            answer = asyncio.run(mllp.exchange_once(
                host=s.hl7_peer_host, port=s.hl7_peer_port, message=self.request(change),
                timeout=s.hl7_timeout_seconds))
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            log.warning("HL7 request unanswered", extra={"request_id": change.request_id,
                                                         "error": type(exc).__name__})
            return WriteResult.later(f"the PAS did not answer ({type(exc).__name__})")
        return self.result(answer, change)

    def result(self, answer: str, change: WriteBack) -> WriteResult:
        """What an SRR or ACK says about our request."""
        try:
            code, answered_id, reason, codes = ack.read(answer)
        except Exception as exc:  # an answer python-hl7 cannot read is no answer
            return WriteResult.later(f"the PAS's answer could not be read ({type(exc).__name__})")
        if answered_id != control_id(change.idempotency_key):
            return WriteResult.later("the PAS answered another message")
        log.info("HL7 request answered", extra={"request_id": change.request_id, "ack": code})
        if code == "AA":
            return WriteResult.ok(_filler_id(answer) or change.appointment_pas_id)
        if code in ("AE", "AR"):
            return WriteResult.no(reason or f"the PAS answered {code}",
                                  conflict=SLOT_TAKEN in codes.split())
        return WriteResult.later(f"the PAS answered {code or 'without MSA-1'}")


def _filler_id(answer: str) -> str | None:
    parsed = fields.message(answer)
    for name, number in (("SCH", 2), ("ARQ", 2)):
        seg = fields.first(parsed, name)
        if seg is not None and seg.get(number):
            return seg.get(number)
    return None
