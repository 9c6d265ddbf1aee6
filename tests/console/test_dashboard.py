"""The dashboard and campaign pages: figures and charts for signed-in staff."""

from datetime import timedelta

import pytest

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus
from api.campaigns import service as campaigns_service
from api.db import utcnow
from api.scheduling.models import Disruption
from tests.console.test_console import sign_in
from tests.factories import make_appointment, make_patient
from tests.handover.helpers import Desk


@pytest.fixture
def strike(db_session):
    desk = Desk(db_session, prefix="dash")
    disruption = Disruption(name="Resident doctors strike", starts_at=utcnow(),
                            ends_at=utcnow() + timedelta(days=5), staff_group="resident doctors")
    db_session.add(disruption)
    db_session.flush()
    for _ in range(4):
        appointment = make_appointment(db_session, patient=make_patient(db_session),
                                       specialty=desk.specialty, site_id=desk.site.id)
        appointments_service.change_status(session=db_session, appointment=appointment,
                                           to_status=AppointmentStatus.POSTPONED,
                                           reason="industrial action", actor="system")
        appointment.disruption_id = disruption.id
    campaign = campaigns_service.create(session=db_session, name="Strike notice",
                                        disruption_id=disruption.id,
                                        sms_template="{trust_name}: your appointment moved.")
    db_session.commit()
    return desk, disruption, campaign


def test_dashboard_shows_figures_and_charts(api_client, strike):
    desk, disruption, _ = strike
    sign_in(api_client, "dash.clerk")
    page = api_client.get(f"/console/dashboard?disruption={disruption.id}")
    assert page.status_code == 200
    assert 'role="img" aria-label="Funnel' in page.text
    assert "Appointments by specialty" in page.text and "Dermatology (0)" in page.text
    assert ">4</span> appointments postponed" in page.text
    assert f"/api/v1/reports/disruptions/{disruption.id}.csv" in page.text


def test_campaign_progress_page(api_client, strike):
    _, _, campaign = strike
    sign_in(api_client, "dash.clinician")
    listing = api_client.get("/console/campaigns")
    assert "Strike notice" in listing.text
    page = api_client.get(f"/console/campaigns/{campaign.id}")
    assert page.status_code == 200 and "Campaign progress" in page.text
    assert api_client.get("/console/campaigns/999999").status_code == 404


def test_dashboard_needs_sign_in(api_client, strike):
    response = api_client.get("/console/dashboard", follow_redirects=False)
    assert response.status_code == 303
