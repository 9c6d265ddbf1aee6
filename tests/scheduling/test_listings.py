"""The list endpoints: GET /api/v1/disruptions and GET /api/v1/clinics (staff only, paged,
filtered), with counts checked against the rows the test made."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from api.appointments.models import AppointmentStatus
from api.scheduling.models import ClinicSession, Disruption, SessionKind, SlotStatus
from api.staff import service as staff_service
from api.staff.models import Role
from api.system import localtime
from tests import factories


@pytest.fixture
def clerk(db_session):
    user = staff_service.create_user(session=db_session, username="list-clerk",
                                     display_name="List Clerk", role=Role.CLERK,
                                     password="long enough password")
    key = staff_service.create_api_key(session=db_session, user=user)
    return {"Authorization": f"Bearer {key}"}


def _disruption(session, name: str, days: int) -> Disruption:
    start = datetime(2026, 1, 5, 8, tzinfo=UTC) + timedelta(days=days)
    disruption = Disruption(name=name, starts_at=start, ends_at=start + timedelta(days=2),
                            staff_group="resident doctors")
    session.add(disruption)
    session.flush()
    return disruption


def test_lists_need_a_staff_sign_in(api_client):
    for path in ("/api/v1/disruptions", "/api/v1/clinics"):
        response = api_client.get(path)
        assert response.status_code == 401 and "detail" in response.json()


def test_disruptions_newest_first_with_counts(api_client, db_session, clerk):
    older = _disruption(db_session, "January walkout", 0)
    newer = _disruption(db_session, "February walkout", 30)
    specialty = factories.make_specialty(db_session)
    statuses = [AppointmentStatus.POSTPONED, AppointmentStatus.OFFERED,
                AppointmentStatus.REBOOKED, AppointmentStatus.PENDING_CLINICAL_REVIEW]
    for status in statuses:
        factories.make_appointment(db_session, patient=factories.make_patient(db_session),
                                   specialty=specialty, disruption_id=newer.id, status=status)
    db_session.flush()
    page = api_client.get("/api/v1/disruptions", headers=clerk).json()
    assert page["total"] == 2 and page["offset"] == 0
    first, second = page["items"]
    assert [first["id"], second["id"]] == [newer.id, older.id]
    assert (first["postponed"], first["awaiting_date"], first["rebooked"]) == (4, 2, 1)
    assert (second["postponed"], second["awaiting_date"], second["rebooked"]) == (0, 0, 0)
    assert datetime.fromisoformat(first["starts_at"]) == newer.starts_at
    assert first["specialty_codes"] == [] and first["site_codes"] == []
    paged = api_client.get("/api/v1/disruptions", params={"limit": 1, "offset": 1},
                           headers=clerk).json()
    assert paged["total"] == 2 and [d["id"] for d in paged["items"]] == [older.id]
    assert api_client.get("/api/v1/disruptions", params={"limit": 0},
                          headers=clerk).status_code == 422


def _clinic(session, site, specialty, start: datetime, *, free: int, booked: int = 0,
            short_notice: bool = False) -> ClinicSession:
    clinic = ClinicSession(kind=SessionKind.CLINIC, site_id=site.id, specialty_id=specialty.id,
                           location="Outpatients B", starts_at=start,
                           ends_at=start + timedelta(hours=3), short_notice=short_notice)
    session.add(clinic)
    session.flush()
    for n in range(free + booked):
        factories.make_slot(session, site=site, specialty=specialty, session_id=clinic.id,
                            start_at=start + timedelta(minutes=20 * n),
                            status=SlotStatus.FREE if n < free else SlotStatus.BOOKED)
    return clinic


def test_clinics_filtered_and_paged(api_client, db_session, clerk):
    site, other_site = factories.make_site(db_session), factories.make_site(db_session)
    specialty = factories.make_specialty(db_session)
    today = localtime.local_today()
    morning = localtime.at_local(today + timedelta(days=3), time(9))
    soon = _clinic(db_session, site, specialty, morning, free=2, booked=1, short_notice=True)
    later = _clinic(db_session, other_site, specialty, morning + timedelta(days=7), free=0,
                    booked=2)
    _clinic(db_session, site, specialty, morning - timedelta(days=30), free=3)  # past
    db_session.flush()

    def ids(**params):
        answer = api_client.get("/api/v1/clinics", params=params, headers=clerk)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["items"]]

    assert ids() == [soon.id, later.id]  # from today, soonest first
    first = api_client.get("/api/v1/clinics", headers=clerk).json()["items"][0]
    assert first["date"] == (today + timedelta(days=3)).isoformat()
    assert (first["site_code"], first["specialty_name"]) == (site.code, specialty.name)
    assert (first["slots"], first["free_slots"], first["short_notice"]) == (3, 2, True)
    assert ids(site_code=other_site.code) == [later.id]
    assert ids(with_free_slots="true") == [soon.id]
    assert ids(short_notice="false") == [later.id]
    assert ids(to_date=(today + timedelta(days=3)).isoformat()) == [soon.id]
    for bad in ("0", "2026-3-2", "tomorrow"):
        assert api_client.get("/api/v1/clinics", params={"from_date": bad},
                              headers=clerk).status_code == 422
    assert len(ids(from_date=(today - timedelta(days=60)).isoformat())) == 3
    paged = api_client.get("/api/v1/clinics", params={"limit": 1, "offset": 1},
                           headers=clerk).json()
    assert paged["total"] == 2 and [c["id"] for c in paged["items"]] == [later.id]
    assert ids(specialty_code=specialty.code) == [soon.id, later.id]
    unknown = api_client.get("/api/v1/clinics", params={"site_code": "NOPE"}, headers=clerk)
    assert unknown.status_code == 422 and "NOPE" in unknown.json()["detail"]
    backwards = api_client.get("/api/v1/clinics", params={
        "from_date": "2026-02-02", "to_date": "2026-02-01"}, headers=clerk)
    assert backwards.status_code == 422
