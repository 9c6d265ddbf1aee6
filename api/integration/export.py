"""Rebook's trust as its PAS would describe it: rows turned back into inbound records.

The demo trust is exported through each adapter (FHIR bundle, HL7 feed, CSV extracts) by
formatting these records, and loaded back through the same adapter, so the demo runs through
the integration path and a round trip proves each mapping both ways. The PAS identifiers are
the source rows' ids with a letter for their kind ("P12", "A345", "S6789", "C42").
Rebook's own in-between states are what the PAS would hold: an OFFERED appointment is still
on the waiting list, a slot HELD for an offer is free.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
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
from api.patients.models import Patient
from api.reference.models import Clinician, Site, Specialty
from api.scheduling.models import ClinicSession, Slot, SlotStatus

PAS_STATUS = {
    AppointmentStatus.BOOKED: PasAppointmentStatus.BOOKED,
    AppointmentStatus.REBOOKED: PasAppointmentStatus.BOOKED,
    AppointmentStatus.POSTPONED: PasAppointmentStatus.WAITLIST,
    AppointmentStatus.OFFERED: PasAppointmentStatus.WAITLIST,
    AppointmentStatus.PENDING_CLINICAL_REVIEW: PasAppointmentStatus.WAITLIST,
    AppointmentStatus.CANCELLED: PasAppointmentStatus.CANCELLED,
    AppointmentStatus.ATTENDED: PasAppointmentStatus.FULFILLED,
}
PAS_SLOT_STATUS = {SlotStatus.FREE: PasSlotStatus.FREE, SlotStatus.HELD: PasSlotStatus.FREE,
                   SlotStatus.BOOKED: PasSlotStatus.BUSY,
                   SlotStatus.BLOCKED: PasSlotStatus.BLOCKED}
_BATCH = 2000


def patient_pas_id(local_id: int) -> str:
    return f"P{local_id}"


def appointment_pas_id(local_id: int) -> str:
    return f"A{local_id}"


def slot_pas_id(local_id: int) -> str:
    return f"S{local_id}"


def session_pas_id(local_id: int) -> str:
    return f"C{local_id}"


def _codes(session: Session, model) -> dict[int, str]:
    return dict(session.execute(select(model.id, model.code)).all())


def _batches(session: Session, query) -> Iterator:
    """Rows in id order, a batch at a time (100,000 appointments stay out of memory)."""
    model = query.column_descriptions[0]["entity"]
    last = 0
    while True:
        rows = list(session.scalars(query.where(model.id > last).order_by(model.id)
                                    .limit(_BATCH)))
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def capacity(*, session: Session, adapter: Adapter) -> Iterator[SessionRecord | SlotRecord]:
    """Clinic sessions, then slots, as the PAS's capacity records."""
    sites, specialties = _codes(session, Site), _codes(session, Specialty)
    clinicians = _codes(session, Clinician)
    for clinic in _batches(session, select(ClinicSession)):
        yield SessionRecord(
            change=Change(adapter, session_pas_id(clinic.id), event_at=clinic.created_at),
            kind=clinic.kind, site_code=sites[clinic.site_id],
            specialty_code=specialties[clinic.specialty_id], location=clinic.location,
            starts_at=clinic.starts_at, ends_at=clinic.ends_at,
            clinician_code=clinicians.get(clinic.clinician_id),
            short_notice=clinic.short_notice)
    for slot in _batches(session, select(Slot)):
        yield SlotRecord(
            change=Change(adapter, slot_pas_id(slot.id)), site_code=sites[slot.site_id],
            specialty_code=specialties[slot.specialty_id], type=slot.type,
            start_at=slot.start_at, duration_minutes=slot.duration_minutes,
            status=PAS_SLOT_STATUS[slot.status],
            session_pas_id=session_pas_id(slot.session_id) if slot.session_id else None,
            clinician_code=clinicians.get(slot.clinician_id))


def patients(*, session: Session, adapter: Adapter) -> Iterator[PatientRecord]:
    """Every patient as the PAS's demographics."""
    for p in _batches(session, select(Patient)):
        yield PatientRecord(
            change=Change(adapter, patient_pas_id(p.id), event_at=p.updated_at),
            nhs_number=p.nhs_number, given_name=p.given_name, family_name=p.family_name,
            date_of_birth=p.date_of_birth, postcode=p.postcode, mobile=p.mobile,
            email=p.email, preferred_language=p.preferred_language,
            communication_needs=tuple(n for n in p.communication_needs or ()
                                      if n != "no_text_messages"),
            sms_allowed="no_text_messages" not in (p.communication_needs or ()),
            deceased=p.deceased_at is not None, restricted=p.restricted)


def appointments(*, session: Session, adapter: Adapter) -> Iterator[AppointmentRecord]:
    """Every appointment as the PAS holds it: booked ones with their slot, postponed ones
    with the date they were due before."""
    sites, specialties = _codes(session, Site), _codes(session, Specialty)
    clinicians = _codes(session, Clinician)
    for a in _batches(session, select(Appointment)):
        slot = session.get(Slot, a.slot_id) if a.slot_id else None
        status = PAS_STATUS[a.status]
        yield AppointmentRecord(
            change=Change(adapter, appointment_pas_id(a.id), event_at=a.updated_at),
            patient_pas_id=patient_pas_id(a.patient_id), status=status,
            specialty_code=specialties[a.specialty_id], type=a.type, priority=a.priority,
            pathway=a.pathway, referral_date=a.referral_date, breach_date=a.breach_date,
            duration_minutes=a.duration_minutes,
            start_at=slot.start_at if slot else None,
            site_code=sites.get(slot.site_id) if slot else None,
            clinician_code=clinicians.get(slot.clinician_id) if slot else None,
            slot_pas_id=slot_pas_id(slot.id) if slot else None,
            original_start_at=(_due_before(session, a)
                               if status is PasAppointmentStatus.WAITLIST else None),
            requires_named_clinician=a.requires_named_clinician)


def _due_before(session: Session, appointment: Appointment) -> datetime | None:
    """When a postponed appointment was due: the slot it held when it was postponed."""
    slot_id = session.scalar(
        select(AppointmentEvent.slot_id).where(
            AppointmentEvent.appointment_id == appointment.id,
            AppointmentEvent.to_status == AppointmentStatus.POSTPONED,
            AppointmentEvent.slot_id.is_not(None))
        .order_by(AppointmentEvent.id.desc()).limit(1))
    return session.scalar(select(Slot.start_at).where(Slot.id == slot_id)) if slot_id else None
