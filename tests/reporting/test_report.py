"""Every figure of the disruption report against a scenario with known answers."""

from datetime import date, timedelta

import pytest

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus, Priority
from api.campaigns.models import Campaign, CampaignRecipient, RecipientRoute
from api.conversations.models import Conversation
from api.db import utcnow
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.reporting import service as reporting_service
from api.scheduling.models import Disruption
from api.staff import service as staff_service
from api.staff.models import Role
from tests.factories import make_appointment, make_patient, make_site, make_slot, make_specialty

TODAY = date(2027, 1, 10)


def _move(session, appointment, *statuses_and_actors):
    for status, actor in statuses_and_actors:
        appointments_service.change_status(session=session, appointment=appointment,
                                           to_status=status, reason="test", actor=actor)


@pytest.fixture
def scenario(db_session):
    s = db_session
    site, specialty = make_site(s), make_specialty(s, name="Cardiology")
    strike = Disruption(name="Strike", starts_at=utcnow(), ends_at=utcnow() + timedelta(days=5),
                        staff_group="resident doctors")
    other = Disruption(name="Other", starts_at=utcnow(), ends_at=utcnow() + timedelta(days=1),
                       staff_group="consultants")
    s.add_all([strike, other])
    s.flush()
    early = make_slot(s, site=site, specialty=specialty)
    late = make_slot(s, site=site, specialty=specialty,
                     start_at=utcnow().replace(year=2027, month=3, day=1))
    patients = [make_patient(s) for _ in range(6)]
    a = [make_appointment(s, patient=p, specialty=specialty, site_id=site.id,
                          priority=Priority.P2 if i < 3 else Priority.ROUTINE,
                          breach_date=date(2027, 2, 1)) for i, p in enumerate(patients)]
    a[2].breach_date = date(2027, 1, 1)  # waiting and already past its target
    for appointment in a[:5]:
        appointment.disruption_id = strike.id
        _move(s, appointment, (AppointmentStatus.POSTPONED, "system"))
    a[5].disruption_id = other.id
    _move(s, a[0], (AppointmentStatus.OFFERED, "assistant"), (AppointmentStatus.REBOOKED,
                                                              "assistant"))
    a[0].slot_id = early.id
    _move(s, a[1], (AppointmentStatus.REBOOKED, "staff:7"))
    a[1].slot_id = late.id  # rebooked past its breach date
    _move(s, a[4], (AppointmentStatus.PENDING_CLINICAL_REVIEW, "assistant"))
    s.flush()
    start = utcnow() - timedelta(days=3)
    for appointment, hours in ((a[0], 24), (a[1], 48)):
        for event in appointment.history:
            if event.to_status is AppointmentStatus.POSTPONED:
                event.occurred_at = start
            if event.to_status is AppointmentStatus.REBOOKED:
                event.occurred_at = start + timedelta(hours=hours)

    campaign = Campaign(name="c", disruption_id=strike.id, sms_template="x")
    s.add(campaign)
    s.flush()
    for patient, status, replied in ((patients[0], MessageStatus.DELIVERED, True),
                                     (patients[1], MessageStatus.DELIVERED, False),
                                     (patients[2], MessageStatus.SENT, False),
                                     (patients[3], MessageStatus.FAILED, False)):
        message = Message(direction=Direction.OUTBOUND, channel=Channel.SMS, from_address="x",
                          to_address=patient.mobile, body="moved", status=status,
                          category=MessageCategory.NOTIFICATION)
        s.add(message)
        s.flush()
        s.add(CampaignRecipient(campaign_id=campaign.id, patient_id=patient.id,
                                route=RecipientRoute.SMS, address=patient.mobile,
                                message_id=message.id, queued_at=start,
                                replied_at=utcnow() if replied else None))
    now = utcnow()
    s.add_all([
        Handover(patient_id=patients[2].id, reason=HandoverReason.ASKED_FOR_PERSON,
                 urgency=Urgency.NORMAL, status=HandoverStatus.OPEN,
                 due_at=now - timedelta(hours=1), created_by="assistant"),
        Handover(patient_id=patients[1].id, reason=HandoverReason.COMPLAINT,
                 urgency=Urgency.HIGH, status=HandoverStatus.RESOLVED,
                 due_at=now, resolved_at=now - timedelta(minutes=5), created_by="assistant"),
        Conversation(channel=Channel.SMS, address=patients[0].mobile,
                     verified_patient_id=patients[0].id),
        Conversation(channel=Channel.SMS, address=patients[1].mobile,
                     verified_patient_id=patients[1].id),
    ])
    s.flush()
    return {"strike": strike, "appointments": a}


def test_every_figure_matches_the_scenario(db_session, scenario):
    report = reporting_service.disruption_report(
        session=db_session, disruption_id=scenario["strike"].id, today=TODAY)
    assert report["funnel"] == {
        "postponed": 5, "patients": 5, "notified": 3, "delivered": 2, "replied": 1,
        "rebooked_by_assistant": 1, "rebooked_by_staff": 1, "waiting": 2,
    }
    assert report["self_service_rate"] == 0.5
    assert report["median_hours_to_rebook"] == 36.0
    assert report["handover_queue"] == 1
    assert report["handover_sla_breaches"] == 1
    assert report["calls_avoided_estimate"] == 1
    assert report["breaching"] == 2
    rows = {(r["specialty"], r["priority"]): r for r in report["by_specialty_priority"]}
    assert rows[("Cardiology", "P2")] == {"specialty": "Cardiology", "priority": "P2",
                                        "postponed": 3, "rebooked": 2, "waiting": 1,
                                        "breaching": 2}
    assert rows[("Cardiology", "routine")]["postponed"] == 2


def test_breach_list_names_what_to_act_on(db_session, scenario):
    rows = reporting_service.breaches(session=db_session, disruption_id=scenario["strike"].id,
                                      today=TODAY)
    by_id = {r["appointment_id"]: r for r in rows}
    late, waiting = scenario["appointments"][1], scenario["appointments"][2]
    assert set(by_id) == {late.id, waiting.id}
    assert by_id[late.id]["new_date"] == "2027-03-01" and by_id[late.id]["days_late"] == 28
    assert by_id[waiting.id]["new_date"] is None and by_id[waiting.id]["days_late"] == 9


def test_report_api_json_and_csv(api_client, db_session, scenario):
    user = staff_service.create_user(session=db_session, username="manager", display_name="M",
                                     password="long enough password", role=Role.CLERK)
    headers = {"Authorization": f"Bearer {staff_service.create_api_key(session=db_session, user=user)}"}
    strike_id = scenario["strike"].id
    report = api_client.get(f"/api/v1/reports/disruptions/{strike_id}", headers=headers)
    assert report.status_code == 200 and report.json()["funnel"]["postponed"] == 5
    csv = api_client.get(f"/api/v1/reports/disruptions/{strike_id}.csv", headers=headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "specialty,priority,postponed,rebooked,waiting,breaching"
    assert api_client.get(f"/api/v1/reports/disruptions/{strike_id}/breaches.csv",
                          headers=headers).status_code == 200
    assert api_client.get(f"/api/v1/reports/disruptions/{strike_id}").status_code == 401
    assert api_client.get("/api/v1/reports/disruptions/999999", headers=headers).status_code == 404
