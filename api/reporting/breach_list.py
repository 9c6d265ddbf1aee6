"""The breach list as staff work through it: filtered by specialty and priority, each row with
the patient's name, NHS number and their handover, most urgent first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments import priorities
from api.handover.models import Handover, HandoverStatus
from api.patients.models import Patient


def filtered(rows: list[dict], *, specialty: str | None = None,
             priority: str | None = None) -> list[dict]:
    """The breaches of one specialty and/or priority (by stored value), most urgent first,
    then the longest wait."""
    chosen = [r for r in rows if (not specialty or r["specialty"] == specialty)
              and (not priority or r["priority"] == priority)]
    return sorted(chosen, key=lambda r: (priorities.sort_key(r["priority"]), -r["days_waited"],
                                         r["appointment_id"]))


def options(rows: list[dict]) -> dict[str, list]:
    """The specialties and priorities present, for the filter's choices."""
    present = {r["priority"] for r in rows}
    return {"specialties": sorted({r["specialty"] for r in rows}),
            "priorities": [(value, label) for value, label in priorities.choices()
                           if value in present]}


def _day(iso: str) -> str:
    """"5 Jan 2027" for "2027-01-05"."""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


def with_people(*, session: Session, rows: list[dict]) -> list[dict]:
    """The rows with each patient's name and NHS number, and their handover to open: the
    unresolved one if any, else the latest."""
    patient_ids = {r["patient_id"] for r in rows}
    if not patient_ids:
        return []
    people = {p.id: p for p in session.scalars(select(Patient).where(
        Patient.id.in_(patient_ids)))}
    handovers: dict[int, tuple[bool, int]] = {}
    for handover_id, patient_id, status in session.execute(
            select(Handover.id, Handover.patient_id, Handover.status)
            .where(Handover.patient_id.in_(patient_ids)).order_by(Handover.id)):
        candidate = (status is not HandoverStatus.RESOLVED, handover_id)
        handovers[patient_id] = max(handovers.get(patient_id, candidate), candidate)
    out = []
    for row in rows:
        patient = people.get(row["patient_id"])
        handover = handovers.get(row["patient_id"])
        out.append(row | {
            "patient_name": patient.full_name if patient else "",
            "nhs_number": patient.nhs_number if patient else "",
            "priority_label": priorities.label(row["priority"]),
            "handover_id": handover[1] if handover else None,
            "handover_open": bool(handover and handover[0]),
            "breach_date_text": _day(row["breach_date"]),
            "new_date_text": _day(row["new_date"]) if row["new_date"] else "still waiting",
        })
    return out
