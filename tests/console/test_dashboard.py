"""The dashboard and campaign pages: figures and charts for signed-in staff."""

import re
from datetime import date, timedelta

import pytest

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus, Priority
from api.audit.models import AuditEvent
from api.campaigns import service as campaigns_service
from api.db import utcnow
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.scheduling.models import Disruption
from tests.console.test_console import sign_in
from tests.factories import make_appointment, make_patient, make_specialty
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
    assert "Appointments by specialty" in page.text
    assert "Dermatology (0 missing target)" in page.text
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


PRIORITIES = [Priority.P2, Priority.SUSPECTED_CANCER, Priority.ROUTINE]


@pytest.fixture
def backlog(db_session):
    """30 postponed appointments already past their target, in two specialties and three
    priorities; one patient has an open handover, one a resolved one."""
    desk = Desk(db_session, prefix="bl")
    cardiology = make_specialty(db_session, name="Cardiology")
    disruption = Disruption(name="Long strike", starts_at=utcnow(),
                            ends_at=utcnow() + timedelta(days=5), staff_group="consultants")
    db_session.add(disruption)
    db_session.flush()
    appointments = []
    for i in range(30):
        appointment = make_appointment(
            db_session, patient=make_patient(db_session, given_name=f"Pat{i:02d}"),
            specialty=cardiology if i % 2 else desk.specialty, site_id=desk.site.id,
            priority=PRIORITIES[i % 3], referral_date=date(2025, 6, 1),
            breach_date=date(2025, 10, 1) + timedelta(days=i))
        appointments_service.change_status(session=db_session, appointment=appointment,
                                           to_status=AppointmentStatus.POSTPONED,
                                           reason="industrial action", actor="system")
        appointment.disruption_id = disruption.id
        appointments.append(appointment)
    now = utcnow()
    handovers = [Handover(patient_id=appointments[status].patient_id, status=value,
                          reason=HandoverReason.ASKED_FOR_PERSON, urgency=Urgency.NORMAL,
                          due_at=now + timedelta(hours=1), created_by="assistant")
                 for status, value in ((1, HandoverStatus.OPEN), (4, HandoverStatus.RESOLVED))]
    # And two the disruption does not know: nobody identified yet, still in the queue.
    handovers += [Handover(patient_id=None, status=HandoverStatus.OPEN, urgency=Urgency.HIGH,
                           reason=HandoverReason.ASKED_FOR_PERSON, due_at=now - timedelta(
                               minutes=5), created_by="assistant") for _ in range(2)]
    db_session.add_all(handovers)
    db_session.commit()
    return desk, disruption, appointments, handovers


def _rows(page_text: str) -> list[str]:
    table = page_text.split('class="table responsive breach-table"')[1].split("</table>")[0]
    return re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]


def test_breach_list_pages_25_at_a_time_with_names(api_client, db_session, backlog):
    desk, disruption, appointments, handovers = backlog
    sign_in(api_client, "bl.clerk")
    first = api_client.get(f"/console/dashboard?disruption={disruption.id}")
    rows = _rows(first.text)
    assert len(rows) == 25
    assert "Showing 1 to 25 of 30 appointments (page 1 of 2)" in first.text
    assert f"?disruption={disruption.id}&amp;page=2" in first.text
    # Most urgent first: every suspected cancer row comes before the P2 ones.
    labels = [re.search(r'data-label="Priority">([^<]*)<', r).group(1) for r in rows]
    assert labels[:10] == ["Suspected cancer"] * 10 and labels[10:20] == ["Urgent (P2)"] * 10
    patient = appointments[1].patient
    nhs = patient.nhs_number
    row = next(r for r in rows if patient.full_name in r)
    assert f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" in row and "Cardiology" in row
    assert "2 Oct 2025" in row and "still waiting" in row  # its target, in words
    assert f'href="/console/handovers/{handovers[0].id}"' in row and "Open handover" in row
    second = api_client.get(f"/console/dashboard?disruption={disruption.id}&page=2")
    assert len(_rows(second.text)) == 5 and "page 2 of 2" in second.text
    # Every page view is audited with exactly the patients it showed.
    event = db_session.query(AuditEvent).filter_by(action="view_dashboard").order_by(
        AuditEvent.id.desc()).first()
    shown = {a.patient_id for a in appointments if a.patient.full_name in second.text}
    assert set(event.details["patient_ids"]) == shown and len(shown) == 5


def test_breach_list_filters_by_specialty_and_priority(api_client, backlog):
    _, disruption, appointments, _ = backlog
    sign_in(api_client, "bl.clerk")
    page = api_client.get(f"/console/dashboard?disruption={disruption.id}"
                          "&specialty=Cardiology&priority=P2")
    rows = _rows(page.text)
    expected = [a for a in appointments
                if a.specialty.name == "Cardiology" and a.priority is Priority.P2]
    assert len(rows) == len(expected) == 5
    assert all("Urgent (P2)" in r and "Cardiology" in r for r in rows)
    assert '<option value="P2" selected>Urgent (P2)</option>' in page.text
    none = api_client.get(f"/console/dashboard?disruption={disruption.id}&priority=P1a")
    assert "No appointment matches these filters." in none.text


def test_one_priority_vocabulary_and_the_queue_count(api_client, db_session, backlog):
    _, disruption, _, _ = backlog
    sign_in(api_client, "bl.clerk")
    page = api_client.get(f"/console/dashboard?disruption={disruption.id}").text
    assert "suspected_cancer" not in page.replace('value="suspected_cancer"', "")
    assert ">P2<" not in page and ">routine<" not in page
    # The open handovers are the queue's: every unresolved case, identified or not.
    unresolved = sum(h.status is not HandoverStatus.RESOLVED
                     for h in db_session.query(Handover).all())
    assert f'<span class="kpi-value">{unresolved}</span> open handovers in the queue' in page
    assert "1 about this disruption's patients" in page
    assert "median hours from first message to rebooking" in page


def test_dashboard_shows_the_phone_line_beside_the_text_figures(api_client, db_session,
                                                                strike):
    from api.conversations import service as conversations_service
    from api.messaging.models import Channel
    from api.voice.models import CallOutcome, CallStage, VoiceCall

    _, disruption, _ = strike
    conversation = conversations_service.get_or_create(
        session=db_session, channel=Channel.VOICE, address="+447700900001")
    for sid, outcome, seconds in (("CAd1", CallOutcome.CONTAINED, 100),
                                  ("CAd2", CallOutcome.CONTAINED, 50),
                                  ("CAd3", CallOutcome.TRANSFERRED, 281)):
        db_session.add(VoiceCall(call_sid=sid, conversation_id=conversation.id,
                                 caller="+447700900001", outcome=outcome, stage=CallStage.ENDED,
                                 started_at=utcnow(), ended_at=utcnow(),
                                 duration_seconds=seconds))
    db_session.commit()
    sign_in(api_client, "dash.clerk")
    page = api_client.get(f"/console/dashboard?disruption={disruption.id}").text
    assert "phone calls avoided by text conversations (estimate)" in page
    phone = page.split('id="phone-line"', 1)[1]
    assert ">3</span> calls answered" in phone
    assert ">2</span> calls contained by the assistant" in phone
    assert ">66%</span> containment rate" in phone
    assert ">1</span> calls transferred" in phone
    assert ">0</span> call-backs requested" in phone
    assert ">2:24</span> average handling time" in phone  # 431 s / 3 = 143.7 s
    for term in ("Calls contained by the assistant", "Containment rate", "Call-backs requested",
                 "Average handling time", "Calls given the safety net", "Calls abandoned"):
        assert f"<dt>{term}</dt>" in phone


def test_dashboard_phone_line_with_no_calls(api_client, strike):
    _, disruption, _ = strike
    sign_in(api_client, "dash.clerk")
    phone = api_client.get(f"/console/dashboard?disruption={disruption.id}").text.split(
        'id="phone-line"', 1)[1]
    assert ">0</span> calls answered" in phone
    assert ">-</span> containment rate" in phone
    assert ">-</span> average handling time" in phone
