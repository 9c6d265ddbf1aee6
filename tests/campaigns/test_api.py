"""Campaign API: the whole flow with an API key, and who may not use it."""

from datetime import timedelta

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus
from api.db import utcnow
from api.scheduling.models import Disruption
from api.staff import service as staff_service
from api.staff.models import Role
from tests.factories import make_appointment, make_patient, make_site, make_specialty


def _key(db_session, role):
    user = staff_service.create_user(session=db_session, username=f"u-{role.value}",
                                     display_name="x", password="long enough password", role=role)
    return {"Authorization": f"Bearer {staff_service.create_api_key(session=db_session, user=user)}"}


def _disruption(db_session):
    site, specialty = make_site(db_session), make_specialty(db_session)
    strike = Disruption(name="Strike", starts_at=utcnow(), ends_at=utcnow() + timedelta(days=2),
                        staff_group="consultants")
    db_session.add(strike)
    db_session.flush()
    for _ in range(3):
        appointment = make_appointment(db_session, patient=make_patient(db_session),
                                       specialty=specialty, site_id=site.id)
        appointments_service.change_status(session=db_session, appointment=appointment,
                                           to_status=AppointmentStatus.POSTPONED,
                                           reason="industrial action", actor="system")
        appointment.disruption_id = strike.id
    db_session.flush()
    return strike


def test_campaign_flow_through_the_api(api_client, db_session):
    headers = _key(db_session, Role.CLERK)
    strike = _disruption(db_session)
    created = api_client.post("/api/v1/campaigns", headers=headers, json={
        "name": "Strike notice", "disruption_id": strike.id,
        "sms_template": "{trust_name}: your appointment has moved. Reply to rebook."})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    preview = api_client.get(f"/api/v1/campaigns/{campaign_id}/preview", headers=headers).json()
    assert preview["by_route"]["sms"] == 3
    sent = api_client.post(f"/api/v1/campaigns/{campaign_id}/send", headers=headers).json()
    assert sent["recipients"] == 3 and sent["queued"] == 3
    again = api_client.post(f"/api/v1/campaigns/{campaign_id}/send", headers=headers).json()
    assert again["queued"] == 3 and again["recipients"] == 3  # nothing doubled
    paused = api_client.post(f"/api/v1/campaigns/{campaign_id}/pause", headers=headers)
    assert paused.json()["status"] == "paused"
    assert api_client.post(f"/api/v1/campaigns/{campaign_id}/pause",
                           headers=headers).status_code == 409
    assert api_client.post(f"/api/v1/campaigns/{campaign_id}/resume",
                           headers=headers).json()["status"] == "sending"
    cancelled = api_client.post(f"/api/v1/campaigns/{campaign_id}/cancel", headers=headers)
    assert cancelled.json()["cancelled"] == 3


def test_bad_templates_are_a_clear_422(api_client, db_session):
    headers = _key(db_session, Role.ADMIN)
    strike = _disruption(db_session)
    response = api_client.post("/api/v1/campaigns", headers=headers, json={
        "name": "x", "disruption_id": strike.id, "sms_template": "Reply CANCEL to cancel"})
    assert response.status_code == 422
    assert "CANCEL" in response.json()["detail"]


def test_clinicians_and_strangers_cannot_run_campaigns(api_client, db_session):
    clinician = _key(db_session, Role.CLINICIAN)
    assert api_client.get("/api/v1/campaigns", headers=clinician).status_code == 403
    assert api_client.get("/api/v1/campaigns").status_code == 401
    admin = _key(db_session, Role.ADMIN)
    assert api_client.get("/api/v1/campaigns/999999/progress", headers=admin).status_code == 404
