"""How appointments, slots and preferences are written to patients. No rasa_sdk here.

Times are Europe/London wall-clock (the trust's `patient_timezone`), in the NHS style:
"Tue 16 Jan, 2:30pm", "9am".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import object_session

from api import texts
from api.appointments.models import Appointment, AppointmentStatus
from api.reference.models import AppointmentType
from api.scheduling.models import Slot
from api.system import localtime
from api.texts import text

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
KIND = {
    AppointmentType.OUTPATIENT: "appointment",
    AppointmentType.PROCEDURE: "procedure",
    AppointmentType.THEATRE: "operation",
}


def local(moment: datetime) -> datetime:
    return localtime.to_local(moment)


def clock(moment: datetime) -> str:
    """"2:30pm", "9am"."""
    return texts.clock(moment, zone=localtime.patient_zone())


def day(moment: datetime) -> str:
    """"Tue 16 Jan"."""
    return texts.day(moment, zone=localtime.patient_zone())


def when(moment: datetime) -> str:
    """"Tue 16 Jan, 2:30pm"."""
    return texts.when(moment, zone=localtime.patient_zone())


def slot_place(slot: Slot) -> str:
    """"Royal Northshire Infirmary, Outpatients B"."""
    return texts.slot_place(slot)


def slot_line(slot: Slot) -> str:
    """"Tue 16 Jan, 2:30pm, Royal Northshire Infirmary, Outpatients B"."""
    return texts.slot_line(slot, zone=localtime.patient_zone())


def appointment_label(appointment: Appointment) -> str:
    """"General surgery appointment", "Urology operation"."""
    return f"{appointment.specialty.name} {KIND[appointment.type]}"


def moved_from(appointment: Appointment) -> str:
    """" (was Tue 8 Dec, 9am)": when a postponed appointment was, from its history."""
    event = next((e for e in reversed(appointment.history)
                  if e.to_status is AppointmentStatus.POSTPONED and e.slot_id), None)
    session = object_session(appointment)
    slot = session.get(Slot, event.slot_id) if event is not None and session else None
    return f" (was {when(slot.start_at)})" if slot is not None else ""


def status_line(appointment: Appointment) -> str:
    """Where one appointment stands, in one plain sentence."""
    label = appointment_label(appointment)
    status = appointment.status
    if status in (AppointmentStatus.BOOKED, AppointmentStatus.REBOOKED) and appointment.slot:
        return text("status_booked", label=label, slot=slot_line(appointment.slot))
    if status is AppointmentStatus.POSTPONED:
        return text("status_postponed", label=label, was=moved_from(appointment))
    if status is AppointmentStatus.OFFERED:
        return text("status_offered", label=label, was=moved_from(appointment))
    if status is AppointmentStatus.PENDING_CLINICAL_REVIEW:
        return text("status_review", label=label)
    return f"Your {label} is {status.value.replace('_', ' ')}."


def preference_words(prefs: dict) -> str:
    """"mornings, not Mondays, from Mon 20 Jan" for the preferences dict kept in a slot."""
    words = []
    if prefs.get("time_of_day"):
        words.append(f"{prefs['time_of_day']}s")
    if prefs.get("weekdays"):
        words.append(" or ".join(f"{WEEKDAYS[d].title()}s" for d in sorted(prefs["weekdays"])))
    if prefs.get("exclude_weekdays"):
        words.append("not " + " or ".join(f"{WEEKDAYS[d].title()}s"
                                          for d in sorted(prefs["exclude_weekdays"])))
    if prefs.get("earliest_date"):
        words.append(f"from {_date_words(prefs['earliest_date'])}")
    if prefs.get("latest_date"):
        words.append(f"until {_date_words(prefs['latest_date'])}")
    if prefs.get("site_names"):
        words.append("at " + " or ".join(prefs["site_names"]))
    return ", ".join(words)


def _date_words(iso: str) -> str:
    value = datetime.fromisoformat(iso)
    return f"{value:%a} {value.day} {value:%b}"
