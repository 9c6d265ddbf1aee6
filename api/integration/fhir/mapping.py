"""FHIR R4B resources <-> the inbound records, both ways.

Parsing reads plain JSON (a dict the client already validated with the R4B models): reading
the dict is several times faster than walking the models, and a full load is 350,000
resources. Formatting builds the dict and validates it with the R4B model before it leaves.
Where Rebook needs a field R4 has no element for, a Rebook extension carries it
(`vocabulary`); what a record does not carry (reasonReference) stays in the stored raw
resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from api.appointments.models import Pathway, Priority
from api.integration.fhir import vocabulary as v
from api.integration.fhir.resources import MappingError, validate
from api.integration.models import Adapter
from api.integration.records import (
    AppointmentRecord,
    Change,
    PasAppointmentStatus,
    PasSlotStatus,
    PatientRecord,
    SessionRecord,
    SlotRecord,
)
from api.patients.models import CommunicationNeed
from api.reference.models import AppointmentType
from api.scheduling.models import SessionKind

# FHIR statuses Rebook has no word of its own for, read as the nearest one.
STATUS_ALIASES = {"proposed": PasAppointmentStatus.WAITLIST,
                  "pending": PasAppointmentStatus.WAITLIST,
                  "arrived": PasAppointmentStatus.BOOKED,
                  "checked-in": PasAppointmentStatus.BOOKED}
NO_TEXT = CommunicationNeed.NO_TEXT_MESSAGES.value
INTERPRETER = CommunicationNeed.INTERPRETER.value


@dataclass(frozen=True)
class ScheduleActors:
    """What a Slot takes from its Schedule: FHIR keeps site and clinician there."""

    site_code: str | None
    clinician_code: str | None
    is_session: bool  # a clinic or list in Rebook; False for a bare availability schedule


# --- reading ---------------------------------------------------------------------------

def change_of(resource: dict) -> Change:
    meta = resource.get("meta") or {}
    return Change(Adapter.FHIR, resource["id"], event_at=_instant(meta.get("lastUpdated")),
                  version=meta.get("versionId"))


def patient_record(resource: dict) -> PatientRecord:
    """A Patient as Rebook's demographics."""
    name = _official_name(resource.get("name") or [])
    telecom = resource.get("telecom") or []
    needs = [e.get("valueCode") for e in _extensions(resource, v.EXT_COMMUNICATION_NEED)]
    if any(e.get("valueBoolean") for e in _extensions(resource, v.INTERPRETER_REQUIRED)):
        needs.append(INTERPRETER)
    security = (resource.get("meta") or {}).get("security") or []
    return PatientRecord(
        change=change_of(resource),
        nhs_number=_identifier(resource.get("identifier"), v.NHS_NUMBER),
        given_name=" ".join(name.get("given") or []), family_name=name.get("family") or "",
        date_of_birth=_date(resource.get("birthDate")),
        postcode=next((a["postalCode"] for a in resource.get("address") or []
                       if a.get("postalCode")), ""),
        mobile=next((t.get("value") for t in telecom
                     if t.get("system") in ("phone", "sms") and t.get("use") == "mobile"), None),
        email=next((t.get("value") for t in telecom if t.get("system") == "email"), None),
        preferred_language=_language(resource.get("communication") or []),
        communication_needs=tuple(sorted({n for n in needs if n and n != NO_TEXT})),
        sms_allowed=NO_TEXT not in needs,
        deceased=bool(resource.get("deceasedBoolean")) or "deceasedDateTime" in resource,
        restricted=any(s.get("system") == v.CONFIDENTIALITY
                       and s.get("code") in v.RESTRICTED_LABELS for s in security))


def appointment_record(resource: dict) -> AppointmentRecord:
    """An Appointment as Rebook's: its patient, status, specialty, dates and place."""
    actors = [p.get("actor") or {} for p in resource.get("participant") or []]
    patient = next((a for a in actors if _ref_id(a, "Patient") is not None), None)
    if patient is None:
        raise MappingError("the appointment has no Patient participant with a reference")
    start = _instant(resource.get("start"))
    end = _instant(resource.get("end"))
    minutes = resource.get("minutesDuration") or (
        int((end - start).total_seconds() // 60) if start and end else 20)
    slots = resource.get("slot") or []
    period = (resource.get("requestedPeriod") or [{}])[0]
    reason = resource.get("cancelationReason") or {}
    return AppointmentRecord(
        change=change_of(resource), patient_pas_id=_ref_id(patient, "Patient"),
        nhs_number=_identifier([patient.get("identifier") or {}], v.NHS_NUMBER),
        status=_status(resource.get("status")),
        specialty_code=_specialty(resource),
        type=_appointment_type(resource), priority=_priority(resource),
        pathway=Pathway(_ext_value(resource, v.EXT_PATHWAY, "valueCode") or Pathway.RTT),
        referral_date=_date(_ext_value(resource, v.EXT_REFERRAL_DATE, "valueDate")),
        breach_date=_date(_ext_value(resource, v.EXT_BREACH_DATE, "valueDate")),
        duration_minutes=minutes, start_at=start,
        site_code=_actor_code(actors, v.SITE), clinician_code=_actor_code(actors, v.CLINICIAN),
        slot_pas_id=_ref_id(slots[0], "Slot") if slots else None,
        original_start_at=_instant(period.get("start")),
        requires_named_clinician=bool(_ext_value(resource, v.EXT_NAMED_CLINICIAN,
                                                 "valueBoolean")),
        reason=reason.get("text") or next((c.get("display") or c.get("code") or ""
                                           for c in reason.get("coding") or []), ""))


def schedule_actors(resource: dict) -> ScheduleActors:
    actors = resource.get("actor") or []
    return ScheduleActors(site_code=_actor_code(actors, v.SITE),
                          clinician_code=_actor_code(actors, v.CLINICIAN),
                          is_session=_ext_value(resource, v.EXT_SESSION_KIND, "valueCode")
                          is not None)


def schedule_record(resource: dict) -> SessionRecord | None:
    """A Schedule as a clinic or list; None for a bare one (availability without a session)."""
    kind = _ext_value(resource, v.EXT_SESSION_KIND, "valueCode")
    if kind is None:
        return None
    actors = schedule_actors(resource)
    horizon = resource.get("planningHorizon") or {}
    starts, ends = _instant(horizon.get("start")), _instant(horizon.get("end"))
    if starts is None or ends is None:
        raise MappingError("the schedule has no planning horizon (its session's times)")
    return SessionRecord(
        change=change_of(resource), kind=SessionKind(kind), site_code=actors.site_code,
        specialty_code=_specialty(resource), location=resource.get("comment") or "",
        starts_at=starts, ends_at=ends, clinician_code=actors.clinician_code,
        short_notice=bool(_ext_value(resource, v.EXT_SHORT_NOTICE, "valueBoolean")))


def slot_record(resource: dict, actors: ScheduleActors) -> SlotRecord:
    """A Slot, with the site and clinician of its Schedule."""
    start, end = _instant(resource.get("start")), _instant(resource.get("end"))
    schedule_id = _ref_id(resource.get("schedule") or {}, "Schedule")
    try:
        status = PasSlotStatus(resource.get("status"))
    except ValueError:  # busy-tentative, entered-in-error: not to be offered
        status = PasSlotStatus.BLOCKED
    return SlotRecord(
        change=change_of(resource), site_code=actors.site_code,
        specialty_code=_specialty(resource), type=_appointment_type(resource),
        start_at=start, duration_minutes=int((end - start).total_seconds() // 60),
        status=status, session_pas_id=schedule_id if actors.is_session else None,
        clinician_code=actors.clinician_code)


def schedule_of(resource: dict) -> str | None:
    """The id of the Schedule a Slot belongs to."""
    return _ref_id(resource.get("schedule") or {}, "Schedule")


# --- writing ---------------------------------------------------------------------------

def patient_resource(record: PatientRecord) -> dict:
    """A PatientRecord as a valid R4B Patient."""
    needs = set(record.communication_needs) | (set() if record.sms_allowed else {NO_TEXT})
    resource = {"resourceType": "Patient", "id": record.change.pas_id,
                "identifier": [{"system": v.NHS_NUMBER, "value": record.nhs_number}],
                "name": [{"use": "official", "family": record.family_name,
                          "given": [record.given_name]}],
                "communication": [{"language": _cc(v.LANGUAGE, record.preferred_language),
                                   "preferred": True}]}
    extensions = [{"url": v.EXT_COMMUNICATION_NEED, "valueCode": need}
                  for need in sorted(needs - {INTERPRETER})]
    if INTERPRETER in needs:
        extensions.append({"url": v.INTERPRETER_REQUIRED, "valueBoolean": True})
    _put(resource, "extension", extensions)
    if record.restricted:
        resource["meta"] = {"security": [{"system": v.CONFIDENTIALITY, "code": "R"}]}
    _put(resource, "birthDate", record.date_of_birth and record.date_of_birth.isoformat())
    _put(resource, "telecom", [t for t in (
        record.mobile and {"system": "phone", "use": "mobile", "value": record.mobile},
        record.email and {"system": "email", "value": record.email}) if t])
    _put(resource, "address", record.postcode and [{"postalCode": record.postcode}])
    if record.deceased:
        resource["deceasedBoolean"] = True
    return validate(resource)


def appointment_resource(record: AppointmentRecord) -> dict:
    """An AppointmentRecord as a valid R4B Appointment."""
    resource = {"resourceType": "Appointment", "id": record.change.pas_id,
                "status": record.status.value,
                "extension": _appointment_extensions(record),
                "serviceType": [_cc(v.SPECIALTY, record.specialty_code)],
                "appointmentType": _cc(v.APPOINTMENT_TYPE, record.type.value),
                "priority": v.PRIORITY_NUMBER[record.priority],
                "minutesDuration": record.duration_minutes,
                "participant": participants(record.patient_pas_id, record.nhs_number,
                                            record.site_code, record.clinician_code)}
    if record.start_at is not None:
        resource["start"] = _iso(record.start_at)
        resource["end"] = _iso(record.start_at + timedelta(minutes=record.duration_minutes))
    _put(resource, "slot", record.slot_pas_id and [{"reference": f"Slot/{record.slot_pas_id}"}])
    _put(resource, "requestedPeriod", record.original_start_at and [
        {"start": _iso(record.original_start_at)}])
    _put(resource, "cancelationReason", record.reason and {"text": record.reason})
    return validate(resource)


def participants(patient_pas_id: str | None, nhs_number: str | None, site_code: str | None,
                 clinician_code: str | None) -> list[dict]:
    """The patient (by reference, with the NHS number) and the site and clinician (logical
    references by the trust's codes), all accepted."""
    patient = {"type": "Patient"}
    _put(patient, "reference", patient_pas_id and f"Patient/{patient_pas_id}")
    _put(patient, "identifier", nhs_number and {"system": v.NHS_NUMBER, "value": nhs_number})
    found = [{"actor": patient, "status": "accepted"}]
    found += [{"actor": actor, "status": "accepted"} for actor in _actors(site_code,
                                                                          clinician_code)]
    return found


def schedule_resource(record: SessionRecord) -> dict:
    """A clinic or list (SessionRecord) as a valid R4B Schedule."""
    resource = {"resourceType": "Schedule", "id": record.change.pas_id,
                "extension": [{"url": v.EXT_SESSION_KIND, "valueCode": record.kind.value}],
                "actor": _actors(record.site_code, record.clinician_code),
                "serviceType": [_cc(v.SPECIALTY, record.specialty_code)],
                "planningHorizon": {"start": _iso(record.starts_at),
                                    "end": _iso(record.ends_at)}}
    if record.short_notice:
        resource["extension"].append({"url": v.EXT_SHORT_NOTICE, "valueBoolean": True})
    _put(resource, "comment", record.location)
    return validate(resource)


def bare_schedule_resource(schedule_id: str, record: SlotRecord) -> dict:
    """A Schedule for a slot outside any clinic session (FHIR requires one per Slot)."""
    return validate({"resourceType": "Schedule", "id": schedule_id,
                     "actor": _actors(record.site_code, record.clinician_code),
                     "serviceType": [_cc(v.SPECIALTY, record.specialty_code)]})


def slot_resource(record: SlotRecord, schedule_id: str, status: str | None = None) -> dict:
    """A SlotRecord as a valid R4B Slot in Schedule `schedule_id`."""
    return validate({
        "resourceType": "Slot", "id": record.change.pas_id,
        "schedule": {"reference": f"Schedule/{schedule_id}"},
        "status": status or record.status.value,
        "start": _iso(record.start_at),
        "end": _iso(record.start_at + timedelta(minutes=record.duration_minutes)),
        "serviceType": [_cc(v.SPECIALTY, record.specialty_code)],
        "appointmentType": _cc(v.APPOINTMENT_TYPE, record.type.value)})


# --- helpers ---------------------------------------------------------------------------

def _appointment_extensions(record: AppointmentRecord) -> list[dict]:
    found = [{"url": v.EXT_PRIORITY, "valueCoding": {"system": v.PRIORITY_CODES,
                                                     "code": record.priority.value}},
             {"url": v.EXT_PATHWAY, "valueCode": record.pathway.value}]
    if record.referral_date:
        found.append({"url": v.EXT_REFERRAL_DATE, "valueDate": record.referral_date.isoformat()})
    if record.breach_date:
        found.append({"url": v.EXT_BREACH_DATE, "valueDate": record.breach_date.isoformat()})
    if record.requires_named_clinician:
        found.append({"url": v.EXT_NAMED_CLINICIAN, "valueBoolean": True})
    return found


def _actors(site_code: str | None, clinician_code: str | None) -> list[dict]:
    found = []
    if site_code:
        found.append({"type": "Location", "identifier": {"system": v.SITE, "value": site_code}})
    if clinician_code:
        found.append({"type": "Practitioner",
                      "identifier": {"system": v.CLINICIAN, "value": clinician_code}})
    return found


def _put(resource: dict, key: str, value) -> None:
    """Set `key` only when there is something to say (FHIR forbids empty elements)."""
    if value:
        resource[key] = value


def _cc(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value and len(value) == 10 else None


def _extensions(resource: dict, url: str) -> list[dict]:
    return [e for e in resource.get("extension") or [] if e.get("url") == url]


def _ext_value(resource: dict, url: str, key: str):
    for extension in _extensions(resource, url):
        value = extension.get(key)
        return value.get("code") if isinstance(value, dict) else value
    return None


def _identifier(identifiers: list[dict] | None, system: str) -> str | None:
    return next((i.get("value") for i in identifiers or [] if i.get("system") == system), None)


def _actor_code(actors: list[dict], system: str) -> str | None:
    return _identifier([a.get("identifier") or {} for a in actors], system)


def _ref_id(reference: dict, resource_type: str) -> str | None:
    """The id in a literal reference ("Slot/S1", absolute or versioned) to `resource_type`."""
    parts = (reference.get("reference") or "").split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == resource_type:
            return parts[i + 1]
    return None


def _code(concepts: list[dict], system: str) -> str | None:
    for concept in concepts:
        for coding in concept.get("coding") or []:
            if coding.get("system") == system and coding.get("code"):
                return coding["code"]
    return None


def _specialty(resource: dict) -> str:
    code = _code((resource.get("specialty") or []) + (resource.get("serviceType") or []),
                 v.SPECIALTY)
    if code is None:
        raise MappingError(f"the {resource['resourceType']} has no specialty coded in "
                           f"{v.SPECIALTY}")
    return code


def _appointment_type(resource: dict) -> AppointmentType:
    code = _code([resource.get("appointmentType") or {}], v.APPOINTMENT_TYPE)
    return AppointmentType(code) if code in AppointmentType.__members__.values() \
        else AppointmentType.OUTPATIENT


def _priority(resource: dict) -> Priority:
    code = _ext_value(resource, v.EXT_PRIORITY, "valueCoding")
    if code in Priority.__members__.values():
        return Priority(code)
    return v.PRIORITY_OF_NUMBER.get(resource.get("priority"), Priority.ROUTINE)


def _status(value: str | None) -> PasAppointmentStatus:
    if value in STATUS_ALIASES:
        return STATUS_ALIASES[value]
    try:
        return PasAppointmentStatus(value)
    except ValueError:
        raise MappingError(f"unknown appointment status {value!r}") from None


def _official_name(names: list[dict]) -> dict:
    return next((n for n in names if n.get("use") == "official"), names[0] if names else {})


def _language(communication: list[dict]) -> str:
    chosen = next((c for c in communication if c.get("preferred")),
                  communication[0] if communication else {})
    coding = (chosen.get("language") or {}).get("coding") or [{}]
    return (coding[0].get("code") or "en").lower()
