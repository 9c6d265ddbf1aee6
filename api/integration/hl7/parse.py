"""ADT and SIU messages turned into the inbound records (docs/integration.md, "HL7 v2").

- ADT^A01/A04/A08/A28/A31: a PatientRecord from PID, PD1 and Rebook's ZRP segment.
- ADT^A40: a MergeRecord (MRG-1, the prior identifier, merged into PID-3's record).
- SIU^S12/S13/S14/S15/S17/S26: the PatientRecord from PID, then an AppointmentRecord from
  SCH, AIS, AIL, AIP and Rebook's ZRB segment.

What cannot be taken raises `NotTaken`: `Unsupported` (answered AR: a message type or event
Rebook does not take, or no readable header) or `Invalid` (answered AE: a required field
missing or a value that is not one of the documented codes). The listener keeps either, raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import hl7

from api.appointments.models import Pathway, Priority
from api.integration.hl7 import fields
from api.integration.hl7.fields import Seg
from api.integration.models import Adapter
from api.integration.records import (
    AppointmentRecord,
    Change,
    MergeRecord,
    PasAppointmentStatus,
    PatientRecord,
    Record,
)
from api.patients.models import CommunicationNeed
from api.reference.models import AppointmentType

PATIENT_EVENTS = ("A01", "A04", "A08", "A28", "A31")
APPOINTMENT_EVENTS = ("S12", "S13", "S14", "S15", "S17", "S26")
# The trigger decides for a cancel, delete or no-show; otherwise SCH-25 (HL7 table 0278).
EVENT_STATUS = {"S15": PasAppointmentStatus.CANCELLED, "S17": PasAppointmentStatus.DELETED,
                "S26": PasAppointmentStatus.NOSHOW}
FILLER_STATUS = {
    "": PasAppointmentStatus.BOOKED, "booked": PasAppointmentStatus.BOOKED,
    "overbook": PasAppointmentStatus.BOOKED, "started": PasAppointmentStatus.BOOKED,
    "waitlist": PasAppointmentStatus.WAITLIST, "pending": PasAppointmentStatus.WAITLIST,
    "complete": PasAppointmentStatus.FULFILLED, "cancelled": PasAppointmentStatus.CANCELLED,
    "dc": PasAppointmentStatus.CANCELLED, "deleted": PasAppointmentStatus.DELETED,
    "noshow": PasAppointmentStatus.NOSHOW,
}
NHS_AUTHORITY, NHS_TYPE = "NHS", "NH"
LOCAL_TYPES = ("PI", "MR")
NO_TEXT = CommunicationNeed.NO_TEXT_MESSAGES.value
_MINUTES = {"": 1, "min": 1, "mn": 1, "m": 1, "minutes": 1, "h": 60, "hr": 60, "hour": 60,
            "hours": 60}


class NotTaken(Exception):
    """A message Rebook cannot take: `ack` is AR or AE, `code` HL7 table 0357's error code."""

    ack = "AE"

    def __init__(self, reason: str, *, code: str, location: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.location = location


class Unsupported(NotTaken):
    ack = "AR"


class Invalid(NotTaken):
    ack = "AE"


@dataclass(frozen=True)
class Header:
    """MSH as the listener and the ACK need it."""

    control_id: str
    message_type: str  # "SIU^S15"
    event: str  # "S15"
    sender: tuple[str, str]  # MSH-3, MSH-4
    receiver: tuple[str, str]  # MSH-5, MSH-6
    version: str
    event_at: datetime | None  # EVN-2, else MSH-7


def read(raw: str) -> tuple[hl7.Message, Header]:
    """Parse a message and its header; raises Unsupported when there is no usable MSH."""
    try:
        parsed = fields.message(raw)
        msh = fields.first(parsed, "MSH")
    except Exception as exc:  # python-hl7 raises several kinds on text that is not HL7
        raise Unsupported(f"not an HL7 v2 message ({type(exc).__name__})", code="100") from exc
    if msh is None:
        raise Unsupported("the message does not begin with an MSH segment", code="100")
    control_id = msh.get(10)
    if not control_id:
        raise Unsupported("MSH-10 (message control id) is empty", code="101",
                          location="MSH^1^10")
    kind, event = msh.get(9, 1).upper(), msh.get(9, 2).upper()
    evn = fields.first(parsed, "EVN")
    event_at = _time(evn, 2, "EVN") if evn is not None and evn.get(2) else _time(msh, 7, "MSH")
    return parsed, Header(control_id=control_id, message_type=f"{kind}^{event}", event=event,
                          sender=(msh.get(3), msh.get(4)), receiver=(msh.get(5), msh.get(6)),
                          version=msh.get(12) or "2.5", event_at=event_at)


def records(raw: str) -> list[Record]:
    """The records one message carries, in the order they are applied."""
    parsed, header = read(raw)
    kind, event = header.message_type.split("^")
    if kind == "ADT" and event in PATIENT_EVENTS:
        return [patient(parsed, header)]
    if kind == "ADT" and event == "A40":
        return [merge(parsed, header)]
    if kind == "SIU" and event in APPOINTMENT_EVENTS:
        record = patient(parsed, header)
        return [record, appointment(parsed, header, record)]
    if kind in ("ADT", "SIU"):
        raise Unsupported(f"{header.message_type} is not an event Rebook takes", code="201",
                          location="MSH^1^9^2")
    named = header.message_type if kind else "an empty MSH-9"
    raise Unsupported(f"{named} is not a message type Rebook takes (ADT and SIU only)",
                      code="200", location="MSH^1^9")


def _required(parsed: hl7.Message, name: str) -> Seg:
    found = fields.first(parsed, name)
    if found is None:
        raise Invalid(f"the message has no {name} segment", code="100", location=name)
    return found


def _time(seg: Seg, number: int, name: str) -> datetime | None:
    try:
        return fields.parse_dtm(seg.get(number))
    except ValueError as exc:
        raise Invalid(f"{name}-{number} is not a date and time", code="102",
                      location=f"{name}^1^{number}") from exc


def identifiers(pid: Seg, number: int = 3) -> tuple[str | None, str | None]:
    """(NHS number, local PAS id) from a CX list: NHS by authority NHS or type NH; the
    local id is the first of type PI or MR."""
    nhs_number = local = None
    for cx in pid.reps(number):
        value = fields.component(cx, 1)
        authority, kind = fields.component(cx, 4).upper(), fields.component(cx, 5).upper()
        if not value:
            continue
        if nhs_number is None and (authority == NHS_AUTHORITY or kind == NHS_TYPE):
            nhs_number = value.replace(" ", "")
        elif local is None and kind in LOCAL_TYPES:
            local = value
    return nhs_number, local


def patient(parsed: hl7.Message, header: Header) -> PatientRecord:
    """PID (identity, contact, language, death), PD1-12 (restricted), ZRP-1 (needs)."""
    pid = _required(parsed, "PID")
    nhs_number, local = identifiers(pid)
    if not local:
        raise Invalid("PID-3 has no local patient identifier (type PI or MR)", code="101",
                      location="PID^1^3")
    try:
        born = fields.parse_dt(pid.get(7))
    except ValueError as exc:
        raise Invalid("PID-7 is not a date", code="102", location="PID^1^7") from exc
    mobile, email = _telecoms(pid)
    needs = _needs(fields.first(parsed, "ZRP"))
    pd1 = fields.first(parsed, "PD1")
    return PatientRecord(
        change=Change(Adapter.HL7, local, event_at=header.event_at), nhs_number=nhs_number,
        family_name=pid.get(5, 1), given_name=pid.get(5, 2), date_of_birth=born,
        postcode=pid.get(11, 5), mobile=mobile, email=email,
        preferred_language=(pid.get(15, 1) or "en").lower(),
        communication_needs=tuple(n for n in needs if n != NO_TEXT),
        sms_allowed=NO_TEXT not in needs,
        deceased=pid.get(30).upper() == "Y" or (pid.get(30).upper() != "N" and bool(pid.get(29))),
        restricted=pd1 is not None and pd1.get(12).upper() == "Y")


def _telecoms(pid: Seg) -> tuple[str | None, str | None]:
    """PID-13: the mobile (equipment type CP) and the email (use NET or type Internet)."""
    mobile = email = None
    for xtn in pid.reps(13):
        use, kind = fields.component(xtn, 2).upper(), fields.component(xtn, 3).upper()
        if email is None and (use == "NET" or kind == "INTERNET"):
            email = fields.component(xtn, 4) or fields.component(xtn, 1) or None
        elif mobile is None and kind == "CP":
            number = (fields.component(xtn, 12) or fields.component(xtn, 1)
                      or fields.component(xtn, 6) + fields.component(xtn, 7))
            mobile = number or None
    return mobile, email


def _needs(zrp: Seg | None) -> tuple[str, ...]:
    if zrp is None:
        return ()
    needs = tuple(fields.component(rep, 1).lower() for rep in zrp.reps(1)
                  if fields.component(rep, 1))
    known = {n.value for n in CommunicationNeed}
    unknown = sorted(set(needs) - known)
    if unknown:
        raise Invalid(f"ZRP-1 has unknown communication needs {', '.join(unknown)}",
                      code="103", location="ZRP^1^1")
    return needs


def merge(parsed: hl7.Message, header: Header) -> MergeRecord:
    """ADT^A40: MRG-1's prior identifier merged into PID-3's local id."""
    _, survivor = identifiers(_required(parsed, "PID"))
    mrg = _required(parsed, "MRG")
    _, prior = identifiers(mrg, 1)
    prior = prior or mrg.get(1, 1)
    if not survivor or not prior:
        raise Invalid("a merge needs PID-3 and MRG-1 local identifiers", code="101",
                      location="MRG^1^1")
    return MergeRecord(change=Change(Adapter.HL7, survivor, event_at=header.event_at),
                       merged_pas_id=prior)


def appointment(parsed: hl7.Message, header: Header,
                patient_record: PatientRecord) -> AppointmentRecord:
    """SCH (ids, status, timing, reason, type), AIS (service, start, duration), AIL (site),
    AIP (clinician), ZRB (Rebook's fields)."""
    sch = _required(parsed, "SCH")
    filler_id = sch.get(2)
    if not filler_id:
        raise Invalid("SCH-2 (filler appointment id) is empty", code="101", location="SCH^1^2")
    ais = fields.first(parsed, "AIS")
    ail, aip = fields.first(parsed, "AIL"), fields.first(parsed, "AIP")
    start = _start(sch, ais)
    extra = _rebook_fields(fields.first(parsed, "ZRB"))
    return AppointmentRecord(
        change=Change(Adapter.HL7, filler_id, event_at=header.event_at),
        patient_pas_id=patient_record.change.pas_id, nhs_number=patient_record.nhs_number,
        status=_status(header.event, sch.get(25)),
        specialty_code=ais.get(3) if ais is not None else "",
        type=_choice(AppointmentType, sch.get(8).lower() or "outpatient", "SCH^1^8",
                     also={"normal": AppointmentType.OUTPATIENT}),
        duration_minutes=_duration(sch, ais), start_at=start,
        site_code=(ail.get(3, 4) or ail.get(3, 1)) if ail is not None else None,
        clinician_code=(aip.get(3, 1) or None) if aip is not None else None,
        reason=sch.get(6, 2) or sch.get(6, 1) or sch.get(7, 2) or sch.get(7, 1), **extra)


def _start(sch: Seg, ais: Seg | None) -> datetime | None:
    """AIS-4, else SCH-11's start (TQ component 4)."""
    if ais is not None and ais.get(4):
        return _time(ais, 4, "AIS")
    try:
        return fields.parse_dtm(sch.get(11, 4))
    except ValueError as exc:
        raise Invalid("SCH-11.4 is not a date and time", code="102",
                      location="SCH^1^11^4") from exc


def _status(event: str, filler_status: str) -> PasAppointmentStatus:
    if event in EVENT_STATUS:
        return EVENT_STATUS[event]
    status = FILLER_STATUS.get(filler_status.lower())
    if status is None:
        raise Invalid(f"SCH-25 {filler_status!r} is not a filler status Rebook takes",
                      code="103", location="SCH^1^25")
    return status


def _duration(sch: Seg, ais: Seg | None) -> int:
    """AIS-7 in AIS-8's units, else SCH-9 in SCH-10's units; minutes (20 when neither)."""
    for seg, number in ((ais, 7), (sch, 9)):
        if seg is None or not seg.get(number):
            continue
        value, unit = seg.get(number), seg.get(number + 1).lower()
        if not value.isdigit() or unit not in _MINUTES:
            raise Invalid(f"the appointment's duration {value!r} {unit!r} is not minutes or "
                          "hours", code="102", location=f"{'AIS' if seg is ais else 'SCH'}")
        return int(value) * _MINUTES[unit]
    return 20


def _choice(kind, value: str, location: str, also: dict | None = None):
    if also and value in also:
        return also[value]
    try:
        return kind(value)
    except ValueError as exc:
        raise Invalid(f"{location.replace('^1^', '-')} {value!r} is not one of "
                      f"{', '.join(k.value for k in kind)}", code="103",
                      location=location) from exc


def _rebook_fields(zrb: Seg | None) -> dict:
    """ZRB: 1 priority, 2 pathway, 3 referral date, 4 breach date, 5 the start a postponed
    appointment had, 6 named clinician required (Y/N)."""
    if zrb is None:
        return {}
    try:
        referral, breach = fields.parse_dt(zrb.get(3)), fields.parse_dt(zrb.get(4))
    except ValueError as exc:
        raise Invalid("ZRB-3 or ZRB-4 is not a date", code="102", location="ZRB") from exc
    return dict(priority=_choice(Priority, zrb.get(1) or Priority.ROUTINE.value, "ZRB^1^1"),
                pathway=_choice(Pathway, (zrb.get(2) or Pathway.RTT.value).lower(), "ZRB^1^2"),
                referral_date=referral, breach_date=breach,
                original_start_at=_time(zrb, 5, "ZRB"),
                requires_named_clinician=zrb.get(6).upper() == "Y")
