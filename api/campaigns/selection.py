"""Who a campaign writes to: the disruption's appointments that match its filters, and their
patients."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentStatus
from api.campaigns.models import Campaign
from api.patients.models import Patient
from api.reference.models import Site, Specialty


def selected_appointments(*, session: Session, campaign: Campaign) -> list[Appointment]:
    """The disruption's postponed appointments that match the campaign's filters."""
    filters = campaign.filters or {}
    statuses = filters.get("statuses") or [AppointmentStatus.POSTPONED.value]
    query = select(Appointment).where(Appointment.disruption_id == campaign.disruption_id,
                                      Appointment.status.in_(statuses))
    if filters.get("priorities"):
        query = query.where(Appointment.priority.in_(filters["priorities"]))
    if filters.get("specialties"):
        query = query.join(Specialty, Specialty.id == Appointment.specialty_id).where(
            Specialty.code.in_(filters["specialties"]))
    if filters.get("sites"):
        query = query.join(Site, Site.id == Appointment.site_id).where(
            Site.code.in_(filters["sites"]))
    return list(session.scalars(query.order_by(Appointment.id)))


def selected_patients(session: Session, campaign: Campaign) -> list[Patient]:
    """The patients of the selected appointments, each once, in id order."""
    ids = sorted({a.patient_id for a in selected_appointments(session=session, campaign=campaign)})
    patients: list[Patient] = []
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        # Nobody writes to, or rings about, a patient the PAS records as deceased.
        patients += session.scalars(select(Patient).where(
            Patient.id.in_(ids[start:start + 900]), Patient.deceased_at.is_(None)))
    return sorted(patients, key=lambda p: p.id)
