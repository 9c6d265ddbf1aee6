"""The bookings export: a booking made in Rebook (CSV mode: the patient is confirmed at once)
goes into the file for the PAS upload once, then is marked uploaded."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import select

from api.appointments.models import Appointment
from api.config import Settings
from api.demo import service as demo_service
from api.flows import booking as booking_flow
from api.integration.csvfile import bookings_export, capacity, waiting_list
from api.integration.models import PasRequest, RequestStatus
from api.scheduling import service as scheduling_service
from tests.integration.conftest import DEMO_TODAY
from tests.integration.csvfile.files import patient_row, slot_row, write

SETTINGS = Settings(pas_mode="csv")


def book_one(session, tmp_path) -> PasRequest:
    """A postponed appointment and a free slot from the PAS's files, booked in Rebook."""
    demo_service.seed_reference(session=session, today=DEMO_TODAY)
    capacity.import_file(session=session, settings=SETTINGS,
                         path=write(tmp_path / "cap.csv", [slot_row(0)]))
    waiting_list.import_file(session=session, settings=SETTINGS,
                             path=write(tmp_path / "wl.csv", [patient_row(1)]))
    appointment = session.scalars(select(Appointment)).one()
    [offer] = scheduling_service.find_offers(session=session, appointment_id=appointment.id,
                                             source="staff")
    booking = booking_flow.book_and_confirm(session=session, settings=SETTINGS,
                                            offer_id=offer.id, patient_id=appointment.patient_id,
                                            actor="staff:1")
    assert not booking.awaiting_pas  # CSV mode: the patient is confirmed at once
    return session.scalars(select(PasRequest)).one()


def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_booking_is_exported_once_then_marked_uploaded(db_session, tmp_path):
    request = book_one(db_session, tmp_path)
    assert request.status is RequestStatus.PENDING_UPLOAD
    out = tmp_path / "out" / "bookings.csv"

    done = bookings_export.export_bookings(session=db_session, settings=SETTINGS, path=out)

    [row] = _rows(out)
    assert (done.rows, done.marked_uploaded) == (1, 1)
    assert row | {"BOOKED_AT": ""} == {
        "REQUEST_ID": str(request.id), "REQUEST_KEY": request.idempotency_key,
        "ACTION": "book", "APPOINTMENT_ID": "WL1", "LOCAL_PATIENT_IDENTIFIER": "H000001",
        "NHS_NUMBER": patient_row(1)["NHS_NUMBER"], "PATIENT_GIVEN_NAME": "Alex",
        "PATIENT_FAMILY_NAME": "Tester1", "SPECIALTY_CODE": "DERM", "SITE_CODE": "NTH-RNI",
        "CLINICIAN_CODE": "", "SLOT_ID": "SL0", "APPOINTMENT_DATE": "2026-12-14",
        "APPOINTMENT_TIME": "09:00", "DURATION_MINUTES": "20", "APPOINTMENT_TYPE": "outpatient",
        "PRIORITY_TYPE_CODE": "1", "BOOKED_AT": ""}
    db_session.refresh(request)
    assert request.status is RequestStatus.UPLOADED
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind

    again = bookings_export.export_bookings(session=db_session, settings=SETTINGS, path=out)
    assert (again.rows, _rows(out)) == (0, [])
    everything = bookings_export.export_bookings(session=db_session, settings=SETTINGS,
                                                 path=out, everything=True)
    assert (everything.rows, everything.marked_uploaded, len(_rows(out))) == (1, 0, 1)


def test_a_failed_export_marks_nothing_uploaded(db_session, tmp_path, monkeypatch):
    request = book_one(db_session, tmp_path)
    out = tmp_path / "bookings.csv"

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bookings_export.os, "fsync", disk_full)
    with pytest.raises(OSError):
        bookings_export.export_bookings(session=db_session, settings=SETTINGS, path=out)
    db_session.refresh(request)
    assert request.status is RequestStatus.PENDING_UPLOAD
    assert list(tmp_path.glob("*bookings.csv*")) == []
