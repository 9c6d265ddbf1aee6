"""Rebook's trust as an HL7 feed file: ADT^A28 per patient, then an SIU per appointment.

The SIU's trigger follows the appointment's state as the PAS holds it: S12 booked (SCH-25
Booked), S14 with SCH-25 Waitlist for one postponed (with ZRB-5, the start it had), S14 with
SCH-25 Complete for one attended, S15 cancelled. Every SIU carries the patient's full
segments too (PID, PD1, ZRP), as parse.py takes them as the patient's current record.
A message's segments are separated by \\r and messages by a line break, so the file reads
one message per line in an editor, and `rebook integration hl7 send` replays it over MLLP.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from api.config import Settings
from api.db import utcnow
from api.integration import export as records_export
from api.integration.hl7 import build, fields
from api.integration.hl7.fields import escape, segment
from api.integration.models import Adapter
from api.integration.records import AppointmentRecord, PasAppointmentStatus, PatientRecord

SIU = {PasAppointmentStatus.BOOKED: ("S12", "Booked"),
       PasAppointmentStatus.WAITLIST: ("S14", "Waitlist"),
       PasAppointmentStatus.FULFILLED: ("S14", "Complete"),
       PasAppointmentStatus.CANCELLED: ("S15", "Cancelled"),
       PasAppointmentStatus.NOSHOW: ("S26", "Noshow"),
       PasAppointmentStatus.DELETED: ("S17", "Deleted")}


def feed(*, session: Session, settings: Settings) -> Iterator[str]:
    """The database's patients and appointments as HL7 messages (text, \\r-separated)."""
    patients: dict[str, PatientRecord] = {}
    for record in records_export.patients(session=session, adapter=Adapter.HL7):
        patients[record.change.pas_id] = record
        yield adt(record, settings=settings)
    for record in records_export.appointments(session=session, adapter=Adapter.HL7):
        yield siu(record, patients[record.patient_pas_id], settings=settings)


def _message(settings: Settings, message_type: str, pas_id: str, at: datetime | None,
             body: list[str]) -> str:
    """MSH (from the PAS to Rebook) and the body; MSH-10 is the record's id and a digest of
    the body, so a re-export of an unchanged record is a duplicate and a changed one is not."""
    digest = hashlib.sha256("\r".join(body).encode()).hexdigest()[:10]
    header = fields.msh(sender=(settings.hl7_receiving_application,
                                settings.hl7_receiving_facility),
                        receiver=(settings.hl7_sending_application,
                                  settings.hl7_sending_facility),
                        at=at or utcnow(), message_type=message_type,
                        control_id=f"{pas_id}.{digest}")
    return "\r".join([header, *body])


def patient_segments(record: PatientRecord) -> list[str]:
    """PID, PD1 (12: protection indicator = restricted), ZRP (1: communication needs)."""
    needs = list(record.communication_needs)
    if not record.sms_allowed:
        needs.append("no_text_messages")
    return [build.pid(local_id=record.change.pas_id, nhs_number=record.nhs_number,
                      family_name=record.family_name, given_name=record.given_name,
                      date_of_birth=record.date_of_birth, postcode=record.postcode,
                      mobile=record.mobile, email=record.email,
                      language=record.preferred_language, deceased=record.deceased),
            segment("PD1", *[""] * 11, "Y" if record.restricted else "N"),
            segment("ZRP", "~".join(escape(n) for n in needs))]


def adt(record: PatientRecord, *, settings: Settings) -> str:
    """ADT^A28 (add person information), EVN-2 the record's time."""
    at = record.change.event_at
    return _message(settings, "ADT^A28^ADT_A05", record.change.pas_id, at,
                    [segment("EVN", "A28", fields.dtm(at)), *patient_segments(record)])


def siu(record: AppointmentRecord, patient: PatientRecord, *, settings: Settings) -> str:
    """SIU^S12/S14/S15 with SCH, the patient's segments, AIS/AIL/AIP and ZRB."""
    event, status = SIU[record.status]
    pas_id = escape(record.change.pas_id)
    sch = segment("SCH", "", pas_id, "", "", "", f"^{escape(record.reason)}" if record.reason
                  else "", "", record.type.value, str(record.duration_minutes), "min",
                  f"^^^{fields.dtm(record.start_at)}" if record.start_at else "", *[""] * 13,
                  status)
    zrb = segment("ZRB", record.priority.value, record.pathway.value,
                  fields.dt(record.referral_date), fields.dt(record.breach_date),
                  fields.dtm(record.original_start_at),
                  "Y" if record.requires_named_clinician else "N")
    return _message(settings, f"SIU^{event}^SIU_S12", record.change.pas_id,
                    record.change.event_at, [
                        sch, *patient_segments(patient),
                        *build.resources(start_at=record.start_at,
                                         duration_minutes=record.duration_minutes,
                                         specialty_code=record.specialty_code,
                                         site_code=record.site_code,
                                         clinician_code=record.clinician_code), zrb])


def split(text: str) -> list[str]:
    """A feed file's messages (one per line; blank lines between them allowed)."""
    messages: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("MSH"):
            messages.append(line)
        elif line.strip() and messages:
            messages[-1] += "\r" + line  # a file written with a line break per segment
    return [m.strip("\r") for m in messages]
