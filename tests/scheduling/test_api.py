"""The staff JSON API: authentication, roles, the happy paths and clear 4xx answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.appointments.models import AppointmentStatus, Priority
from api.reference.models import Clinician
from api.scheduling.models import SlotStatus
from api.staff import service as staff_service
from api.staff.models import Role
from tests import factories
from tests.scheduling.conftest import postponed

SOON = (datetime.now(UTC) + timedelta(days=10)).replace(hour=9, minute=0, second=0,
                                                        microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def headers(db_session):
    def make(role: Role) -> dict:
        user = staff_service.create_user(session=db_session, username=f"user-{role.value}",
                                         display_name=role.value, role=role,
                                         password="long enough password")
        key = staff_service.create_api_key(session=db_session, user=user)
        return {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
def admin(headers):
    return headers(Role.ADMIN)


@pytest.fixture
def clerk(headers):
    return headers(Role.CLERK)


@pytest.fixture
def place(db_session):
    site = factories.make_site(db_session)
    specialty = factories.make_specialty(db_session)
    return site, specialty


def test_needs_authentication(api_client):
    assert api_client.post("/api/v1/disruptions", json={}).status_code == 401
    assert api_client.get("/api/v1/clinics/1/proposal").status_code == 401


def test_declare_preview_and_postpone(api_client, db_session, admin, clerk, place):
    site, specialty = place
    slot = factories.make_slot(db_session, site=site, specialty=specialty,
                               start_at=SOON + timedelta(hours=1), status=SlotStatus.BOOKED)
    appointment = factories.make_appointment(db_session, patient=factories.make_patient(
        db_session), specialty=specialty, slot_id=slot.id)
    body = {"name": "Strike", "starts_at": iso(SOON), "ends_at": iso(SOON + timedelta(days=2)),
            "staff_group": "resident doctors", "specialty_codes": [specialty.code],
            "site_codes": [site.code]}
    assert api_client.post("/api/v1/disruptions", json=body, headers=clerk).status_code == 403
    created = api_client.post("/api/v1/disruptions", json=body, headers=admin)
    assert created.status_code == 201, created.text
    disruption = created.json()
    assert disruption["specialty_codes"] == [specialty.code]

    preview = api_client.post(f"/api/v1/disruptions/{disruption['id']}/preview", headers=clerk)
    assert preview.json()["postpone"] == 1
    assert preview.json()["decisions"][0]["appointment_id"] == appointment.id
    kept = api_client.post(f"/api/v1/disruptions/{disruption['id']}/preview", headers=clerk,
                           json={"keep_priorities": ["routine"]})
    assert kept.json()["keep"] == 1

    done = api_client.post(f"/api/v1/disruptions/{disruption['id']}/postpone", headers=admin)
    assert done.status_code == 200
    assert done.json()["postponed"] == 1
    db_session.refresh(appointment)
    assert appointment.status is AppointmentStatus.POSTPONED


@pytest.mark.parametrize("change, status, message", [
    ({"ends_at": iso(SOON - timedelta(hours=1))}, 422, "ends before it starts"),
    ({"specialty_codes": ["NOPE"]}, 422, "unknown specialty"),
    ({"starts_at": "2026-12-10T09:00:00"}, 422, "timezone"),
])
def test_bad_disruptions(api_client, admin, change, status, message):
    body = {"name": "Strike", "starts_at": iso(SOON), "ends_at": iso(SOON + timedelta(days=1)),
            "staff_group": "consultants"} | change
    response = api_client.post("/api/v1/disruptions", json=body, headers=admin)
    assert response.status_code == status
    assert message in response.text


def test_unknown_disruption_is_404(api_client, clerk):
    assert api_client.post("/api/v1/disruptions/987654/preview", headers=clerk).status_code == 404


def test_offers_booking_and_their_errors(api_client, db_session, clerk, place):
    site, specialty = place
    appointment = postponed(db_session, patient=factories.make_patient(db_session),
                            specialty=specialty)
    slot = factories.make_slot(db_session, site=site, specialty=specialty, start_at=SOON)
    url = f"/api/v1/scheduling/appointments/{appointment.id}"
    offers = api_client.post(f"{url}/offers", headers=clerk, json={"limit": 2})
    assert offers.status_code == 200, offers.text
    [offer] = offers.json()
    assert offer["slot_id"] == slot.id and offer["source"] == "staff"
    held_for = datetime.fromisoformat(offer["expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23) < held_for <= timedelta(hours=24)

    stranger = factories.make_patient(db_session)
    wrong = api_client.post(f"/api/v1/offers/{offer['id']}/book", headers=clerk,
                            json={"patient_id": stranger.id})
    assert wrong.status_code == 403
    booked = api_client.post(f"/api/v1/offers/{offer['id']}/book", headers=clerk,
                             json={"patient_id": appointment.patient_id})
    assert booked.status_code == 200
    assert booked.json()["status"] == "rebooked" and booked.json()["slot_id"] == slot.id
    again = api_client.post(f"/api/v1/offers/{offer['id']}/book", headers=clerk,
                            json={"patient_id": appointment.patient_id})
    assert again.status_code == 409
    assert api_client.post("/api/v1/offers/424242/book", headers=clerk,
                           json={"patient_id": 1}).status_code == 404
    review = api_client.post(f"{url}/clinical-review", headers=clerk,
                             json={"reason": "patient says the problem has resolved"})
    assert review.json()["status"] == "pending_clinical_review"
    assert api_client.post(f"{url}/offers", headers=clerk).status_code == 409


def test_queue_and_position(api_client, db_session, clerk, place):
    _, specialty = place
    routine = postponed(db_session, patient=factories.make_patient(db_session),
                        specialty=specialty)
    urgent = postponed(db_session, patient=factories.make_patient(db_session),
                       specialty=specialty, priority=Priority.URGENT)
    queue = api_client.get("/api/v1/scheduling/queue", headers=clerk,
                           params={"specialty_code": specialty.code})
    assert [e["appointment_id"] for e in queue.json()] == [urgent.id, routine.id]
    position = api_client.get(f"/api/v1/scheduling/appointments/{routine.id}/position",
                              headers=clerk)
    assert "2nd of 2 waiting for" in position.json()["explanation"]
    assert api_client.get("/api/v1/scheduling/queue", headers=clerk,
                          params={"specialty_code": "NOPE"}).status_code == 422


def test_short_notice_clinic_proposal_and_approval(api_client, db_session, clerk, place):
    site, specialty = place
    doctor = Clinician(code=f"D-{specialty.code}", name="Dr A", specialty_id=specialty.id)
    db_session.add(doctor)
    db_session.flush()
    waiting = postponed(db_session, patient=factories.make_patient(db_session),
                        specialty=specialty)
    body = {"site_code": site.code, "specialty_code": specialty.code, "location": "Room 1",
            "clinician_code": doctor.code, "starts_at": iso(SOON), "slots": 2,
            "slot_minutes": 20}
    created = api_client.post("/api/v1/clinics", headers=clerk, json=body)
    assert created.status_code == 201, created.text
    clinic = created.json()
    assert clinic["slots"] == 2 and clinic["short_notice"]

    clash = api_client.post("/api/v1/clinics", headers=clerk,
                            json=body | {"starts_at": iso(SOON + timedelta(minutes=20))})
    assert clash.status_code == 409 and "already in use" in clash.text
    busy_doctor = api_client.post("/api/v1/clinics", headers=clerk,
                                  json=body | {"location": "Room 2"})
    assert busy_doctor.status_code == 409 and "already has a session" in busy_doctor.text
    past = api_client.post("/api/v1/clinics", headers=clerk,
                           json=body | {"starts_at": iso(SOON - timedelta(days=30))})
    assert past.status_code == 422 and "in the past" in past.text
    unknown = api_client.post("/api/v1/clinics", headers=clerk,
                              json=body | {"specialty_code": "NOPE", "location": "Room 9"})
    assert unknown.status_code == 422

    proposal = api_client.get(f"/api/v1/clinics/{clinic['id']}/proposal", headers=clerk)
    assert [p["appointment_id"] for p in proposal.json()] == [waiting.id]
    approved = api_client.post(f"/api/v1/clinics/{clinic['id']}/approve", headers=clerk)
    assert [o["appointment_id"] for o in approved.json()] == [waiting.id]
    assert approved.json()[0]["source"] == "capacity"
    declined = api_client.post(f"/api/v1/scheduling/appointments/{waiting.id}/decline-offers",
                               headers=clerk)
    assert declined.json() == {"released": 1}


def test_plan_endpoint(api_client, db_session, admin, place):
    site, specialty = place
    created = api_client.post("/api/v1/disruptions", headers=admin, json={
        "name": "Strike", "starts_at": iso(SOON - timedelta(days=5)),
        "ends_at": iso(SOON - timedelta(days=4)), "staff_group": "consultants"})
    disruption_id = created.json()["id"]
    appointment = postponed(db_session, patient=factories.make_patient(db_session),
                            specialty=specialty, disruption_id=disruption_id)
    factories.make_slot(db_session, site=site, specialty=specialty, start_at=SOON)
    for method in ("greedy", "solver"):
        plan = api_client.post(f"/api/v1/disruptions/{disruption_id}/plan", headers=admin,
                               params={"method": method})
        assert plan.status_code == 200, plan.text
        assert plan.json()["assignments"] == 1 and plan.json()["finished"]
    sent = api_client.post(f"/api/v1/disruptions/{disruption_id}/plan", headers=admin,
                           params={"apply": "true"})
    assert sent.json()["offers_sent"] == 1
    db_session.refresh(appointment)
    assert appointment.status is AppointmentStatus.OFFERED
