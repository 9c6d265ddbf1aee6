"""Importing the waiting-list extract and the capacity file: every row checked first, bad
rows reported by line and column and left out, a dry run writing nothing, a re-import
changing nothing, a changed row applied as an update, a killed import resumed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from api.appointments.models import Appointment, AppointmentStatus, Priority
from api.config import Settings
from api.demo import service as demo_service
from api.integration import inbound
from api.integration.csvfile import capacity, waiting_list
from api.integration.csvfile.cells import UnusableFile
from api.integration.models import PasInbound
from api.patients.models import Patient
from api.scheduling.models import Slot
from tests.integration.conftest import DEMO_TODAY
from tests.integration.csvfile.files import patient_row, slot_row, write

SETTINGS = Settings(pas_mode="csv")


@pytest.fixture
def trust(db_session):
    demo_service.seed_reference(session=db_session, today=DEMO_TODAY)
    return db_session


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _import(session, path, **options):
    return waiting_list.import_file(session=session, settings=SETTINGS, path=path, **options)


def test_bad_rows_are_reported_by_line_and_column_and_good_rows_go_in(trust, tmp_path):
    rows = [patient_row(1), patient_row(2, PERSON_BIRTH_DATE="31/02/1960"),
            patient_row(3, NHS_NUMBER="9990000001"), patient_row(4, SPECIALTY_CODE="XYZ"),
            patient_row(5, PATIENT_FAMILY_NAME=""), patient_row(6, PRIORITY_TYPE_CODE="P9"),
            patient_row(7, STATUS="booked"), patient_row(8, APPOINTMENT_ID="WL1"),
            patient_row(9, DUE_DATE="2026-07-01"), patient_row(10)]
    report = tmp_path / "report.csv"

    summary = _import(trust, write(tmp_path / "wl.csv", rows), report=report)

    assert (summary.read, summary.applied, summary.rejected) == (10, 2, 8)
    found = {(e.line, e.column): e.reason for e in summary.errors}
    assert found[(3, "PERSON_BIRTH_DATE")] == ("the value is not a date (YYYY-MM-DD or "
                                               "DD/MM/YYYY)")
    assert "modulus 11" in found[(4, "NHS_NUMBER")]
    assert found[(5, "SPECIALTY_CODE")] == "specialty code 'XYZ' is not in Rebook's reference data"
    assert found[(6, "PATIENT_FAMILY_NAME")] == "a value is required"
    assert "'P9' is not one of" in found[(7, "PRIORITY_TYPE_CODE")]
    assert {(8, "APPOINTMENT_DATE"), (8, "APPOINTMENT_TIME"), (8, "SITE_CODE")} <= set(found)
    assert found[(9, "")] == "the same id as line 2: one row per id"
    assert found[(10, "DUE_DATE")] == "the breach date is before the referral date"
    assert report.read_text().splitlines()[0] == "LINE,COLUMN,REASON"
    assert len(report.read_text().splitlines()) == 1 + len(summary.errors)
    assert "31/02" not in report.read_text()  # a date of birth is never quoted
    assert {p.family_name for p in trust.scalars(select(Patient))} == {"Tester1", "Tester10"}


def test_a_dry_run_writes_nothing_and_says_what_would_change(trust, tmp_path):
    path = write(tmp_path / "wl.csv", [patient_row(1), patient_row(2, STATUS="nonsense")])

    summary = _import(trust, path, dry_run=True)

    assert (summary.would_create, summary.would_update, summary.rejected) == (1, 0, 1)
    assert _count(trust, PasInbound) == _count(trust, Patient) == 0
    assert _import(trust, path).applied == 1
    again = _import(trust, write(tmp_path / "wl2.csv", [patient_row(1, PRIORITY_TYPE_CODE="2")]),
                    dry_run=True)
    assert (again.would_create, again.would_update) == (0, 1)


def test_importing_the_same_file_again_changes_nothing(trust, tmp_path):
    path = write(tmp_path / "wl.csv", [patient_row(n) for n in range(1, 6)])
    first = _import(trust, path)
    stored = _count(trust, PasInbound)

    second = _import(trust, path)

    assert (first.applied, second.applied, second.unchanged) == (5, 0, 5)
    assert _count(trust, PasInbound) == stored
    assert _count(trust, Appointment) == _count(trust, Patient) == 5


def test_a_changed_row_applies_as_an_update(trust, tmp_path):
    _import(trust, write(tmp_path / "wl.csv", [patient_row(1), patient_row(2)]))

    summary = _import(trust, write(tmp_path / "wl2.csv", [
        patient_row(1, PRIORITY_TYPE_CODE="3", STATUS="booked", APPOINTMENT_DATE="2026-12-14",
                    APPOINTMENT_TIME="09:20", SITE_CODE="NTH-RNI"), patient_row(2)]))

    assert (summary.applied, summary.unchanged) == (1, 1)
    [appointment] = [a for a in trust.scalars(select(Appointment)) if a.slot_id]
    assert appointment.priority is Priority.SUSPECTED_CANCER
    assert appointment.status is AppointmentStatus.REBOOKED  # postponed, then booked
    # 09:20 in London in December is 09:20 UTC.
    assert trust.get(Slot, appointment.slot_id).start_at == datetime(2026, 12, 14, 9, 20,
                                                                     tzinfo=UTC)
    assert _count(trust, Appointment) == 2


def test_a_killed_import_resumes_without_duplicates(trust, tmp_path, monkeypatch):
    path = write(tmp_path / "wl.csv", [patient_row(n) for n in range(1, 8)])
    real, batches = inbound.receive_and_apply_batch, []

    def dies_in_the_third_batch(**kwargs):
        batches.append(1)
        if len(batches) == 3:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(inbound, "receive_and_apply_batch", dies_in_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        _import(trust, path, batch=2)
    trust.rollback()
    assert _count(trust, Appointment) == 4  # two batches committed
    monkeypatch.setattr(inbound, "receive_and_apply_batch", real)

    resumed = _import(trust, path, batch=2)

    assert (resumed.unchanged, resumed.applied) == (4, 3)
    assert _count(trust, Appointment) == _count(trust, Patient) == 7


def test_capacity_rows_are_checked_and_loaded_with_their_session(trust, tmp_path):
    rows = [slot_row(0), slot_row(1, SLOT_STATUS="booked"),
            slot_row(2, SLOT_START="2026-12-14 25:00"),
            slot_row(3, SITE_CODE="NOPE"), slot_row(4, LOCATION="Room 9"),
            slot_row(5, SLOT_START="2026-12-15 09:00")]

    summary = capacity.import_file(session=trust, settings=SETTINGS,
                                   path=write(tmp_path / "cap.csv", rows))

    assert (summary.read, summary.applied, summary.rejected) == (6, 2, 4)
    found = {(e.line, e.column): e.reason for e in summary.errors}
    assert "is not a date and time" in found[(4, "SLOT_START")]
    assert found[(5, "SITE_CODE")] == "site code 'NOPE' is not in Rebook's reference data"
    assert found[(6, "")] == "the session C1 is described differently on line 2"
    assert found[(7, "SLOT_START")] == "the slot starts outside its session's times"
    again = capacity.import_file(session=trust, settings=SETTINGS,
                                 path=write(tmp_path / "cap.csv", rows[:2]))
    assert (again.unchanged, again.applied) == (2, 0)


@pytest.mark.parametrize(("content", "words"), [
    (b"", "the file is empty"),
    (b"NHS_NUMBER,STATUS\n9990000018,booked\n", "lacks the required column(s) "
     "LOCAL_PATIENT_IDENTIFIER"),
    (b"\xff\xfe{\x00", "not UTF-8"),
])
def test_an_unusable_file_changes_nothing(trust, tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UnusableFile, match=words.replace("(", r"\(").replace(")", r"\)")):
        _import(trust, path)
    assert _count(trust, PasInbound) == 0


def test_a_file_saved_from_excel_with_a_byte_order_mark_is_read(trust, tmp_path):
    path = write(tmp_path / "wl.csv", [patient_row(1)], encoding="utf-8-sig")
    assert _import(trust, path).applied == 1
