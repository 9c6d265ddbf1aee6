"""Every figure of the disruption report against a scenario with known answers."""

from datetime import date, timedelta

import pytest

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus, Priority
from api.campaigns.models import CallReason, Campaign, CampaignRecipient, RecipientRoute
from api.conversations.models import Conversation
from api.db import utcnow
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.reporting import service as reporting_service
from api.scheduling.models import Disruption
from api.staff import service as staff_service
from api.staff.models import Role
from tests.factories import make_appointment, make_patient, make_site, make_slot, make_specialty
from tests.reporting import independent

TODAY = date(2027, 1, 10)


def _move(session, appointment, *statuses_and_actors):
    for status, actor in statuses_and_actors:
        appointments_service.change_status(session=session, appointment=appointment,
                                           to_status=status, reason="test", actor=actor)


def _message(s, patient, status, sent_at):
    message = Message(direction=Direction.OUTBOUND, channel=Channel.SMS, from_address="x",
                      to_address=patient.mobile, body="moved", status=status,
                      category=MessageCategory.NOTIFICATION, sent_at=sent_at)
    s.add(message)
    s.flush()
    return message


def _set_times(appointment, to_status, moment):
    for event in appointment.history:
        if event.to_status is to_status:
            event.occurred_at = moment


@pytest.fixture
def scenario(db_session):
    """Eight patients, each an edge case of one figure (see the comments)."""
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
    patients = [make_patient(s) for _ in range(8)]
    kinds = [Priority.P2] * 3 + [Priority.ROUTINE] * 2 + [Priority.SUSPECTED_CANCER,
                                                          Priority.ROUTINE, Priority.P3]
    a = [make_appointment(s, patient=p, specialty=specialty, site_id=site.id, priority=kind,
                          breach_date=date(2027, 2, 1))
         for p, kind in zip(patients, kinds, strict=True)]
    a[2].breach_date = date(2027, 1, 1)  # waiting and already past its target
    a[6].breach_date = date(2027, 1, 5)  # waiting, never told, past its target
    for appointment in a[:7]:
        appointment.disruption_id = strike.id
        _move(s, appointment, (AppointmentStatus.POSTPONED, "system"))
    a[7].disruption_id = other.id  # another disruption's: counted nowhere here
    _move(s, a[7], (AppointmentStatus.POSTPONED, "system"))
    _move(s, a[0], (AppointmentStatus.OFFERED, "assistant"), (AppointmentStatus.REBOOKED,
                                                              "assistant"))
    a[0].slot_id = early.id
    _move(s, a[1], (AppointmentStatus.REBOOKED, "staff:7"))
    a[1].slot_id = late.id  # rebooked past its breach date
    _move(s, a[3], (AppointmentStatus.PENDING_CLINICAL_REVIEW, "assistant"))
    _move(s, a[4], (AppointmentStatus.REBOOKED, "staff:7"))  # phoned in before the message
    a[4].slot_id = early.id
    patients[5].opted_out = True  # opted out: on the call list, never messaged
    _move(s, a[5], (AppointmentStatus.REBOOKED, "staff:8"))
    a[5].slot_id = early.id
    s.flush()
    start = utcnow() - timedelta(days=3)
    for appointment in a:
        _set_times(appointment, AppointmentStatus.POSTPONED, start)
    for appointment, hours in ((a[0], 24), (a[1], 48), (a[4], 2), (a[5], 5)):
        _set_times(appointment, AppointmentStatus.REBOOKED, start + timedelta(hours=hours))
    # As the demo trust does (postponed "at 08:00" when seeded earlier that morning): a
    # postponement stamped after the rebooking must not make any figure negative.
    _set_times(a[0], AppointmentStatus.POSTPONED, start + timedelta(hours=30))

    campaign = Campaign(name="c", disruption_id=strike.id, sms_template="x")
    chaser = Campaign(name="reminder", disruption_id=strike.id, sms_template="y")
    s.add_all([campaign, chaser])
    s.flush()
    told = start + timedelta(hours=10)
    for patient, status, replied in ((patients[0], MessageStatus.DELIVERED, True),
                                     (patients[1], MessageStatus.DELIVERED, False),
                                     (patients[2], MessageStatus.SENT, False),
                                     (patients[3], MessageStatus.FAILED, False),
                                     (patients[4], MessageStatus.DELIVERED, False)):
        s.add(CampaignRecipient(campaign_id=campaign.id, patient_id=patient.id,
                                route=RecipientRoute.SMS, address=patient.mobile,
                                message_id=_message(s, patient, status, told).id,
                                queued_at=start, replied_at=utcnow() if replied else None))
    # A second message to patient 0 later: the first one starts the clock.
    s.add(CampaignRecipient(campaign_id=chaser.id, patient_id=patients[0].id,
                            route=RecipientRoute.SMS, address=patients[0].mobile,
                            message_id=_message(s, patients[0], MessageStatus.DELIVERED,
                                                told + timedelta(hours=5)).id, queued_at=told))
    s.add(CampaignRecipient(campaign_id=campaign.id, patient_id=patients[5].id,
                            route=RecipientRoute.CALL_LIST, call_reason=CallReason.OPTED_OUT))
    now = utcnow()
    s.add_all([
        Handover(patient_id=patients[2].id, reason=HandoverReason.ASKED_FOR_PERSON,
                 urgency=Urgency.NORMAL, status=HandoverStatus.OPEN,
                 due_at=now - timedelta(hours=1), created_by="assistant"),
        Handover(patient_id=patients[1].id, reason=HandoverReason.COMPLAINT,
                 urgency=Urgency.HIGH, status=HandoverStatus.RESOLVED,
                 due_at=now, resolved_at=now - timedelta(minutes=5), created_by="assistant"),
        Handover(patient_id=patients[4].id, reason=HandoverReason.COMPLAINT,  # resolved late
                 urgency=Urgency.HIGH, status=HandoverStatus.RESOLVED,
                 due_at=now - timedelta(hours=3), resolved_at=now - timedelta(hours=2),
                 created_by="assistant"),
        # In the queue, but not this disruption's: nobody identified, and another strike's.
        Handover(patient_id=None, reason=HandoverReason.ASKED_FOR_PERSON,
                 urgency=Urgency.NORMAL, status=HandoverStatus.OPEN,
                 due_at=now + timedelta(hours=4), created_by="assistant"),
        Handover(patient_id=patients[7].id, reason=HandoverReason.ASKED_FOR_PERSON,
                 urgency=Urgency.URGENT, status=HandoverStatus.CLAIMED,
                 due_at=now + timedelta(hours=1), created_by="assistant"),
        *[Conversation(channel=Channel.SMS, address=patients[i].mobile,
                       verified_patient_id=patients[i].id) for i in (0, 1, 5)],
    ])
    s.flush()
    return {"strike": strike, "appointments": a, "patients": patients}


def test_every_figure_matches_the_scenario(db_session, scenario):
    report = reporting_service.disruption_report(
        session=db_session, disruption_id=scenario["strike"].id, today=TODAY)
    # By hand, from the comments above.
    assert report["funnel"] == {
        "postponed": 7, "patients": 7, "notified": 4, "delivered": 3, "replied": 1,
        "rebooked_by_assistant": 1, "rebooked_by_staff": 3, "waiting": 2,
    }
    assert report["self_service_rate"] == 0.25
    # From the first message (start + 10 h): 14 h and 38 h; patient 4 rebooked before it and
    # patient 5 never told are not counted, nor made negative.
    assert report["median_hours_to_rebook"] == 26.0
    assert (report["rebooked_timed"], report["rebooked_before_notified"],
            report["rebooked_not_notified"]) == (2, 1, 1)
    assert report["handover_queue"] == 3  # as the queue counts: every unresolved case
    assert report["handover_queue_overdue"] == 1
    assert report["handover_queue_disruption"] == 1
    assert report["handover_sla_breaches"] == 2
    assert report["calls_avoided_estimate"] == 2
    assert report["breaching"] == 3
    rows = {(r["specialty"], r["priority"]): r for r in report["by_specialty_priority"]}
    assert rows[("Cardiology", "P2")] == {"specialty": "Cardiology", "priority": "P2",
                                        "postponed": 3, "rebooked": 2, "waiting": 1,
                                        "breaching": 2}
    assert rows[("Cardiology", "routine")]["postponed"] == 3
    assert [r["priority"] for r in report["by_specialty_priority"]] == [
        "suspected_cancer", "P2", "routine"]  # most urgent first


def test_figures_equal_an_independent_computation(db_session, scenario):
    """The same figures from plain loops over the stored rows (tests/reporting/independent)."""
    now = utcnow()
    report = reporting_service.disruption_report(
        session=db_session, disruption_id=scenario["strike"].id, today=TODAY, now=now)
    expected = independent.figures(db_session, scenario["strike"].id, TODAY, now)
    shown = {**report["funnel"], **{k: v for k, v in report.items()
                                    if k not in ("funnel", "disruption", "by_specialty_priority")}}
    assert shown == expected


def test_breach_list_names_what_to_act_on(db_session, scenario):
    rows = reporting_service.breaches(session=db_session, disruption_id=scenario["strike"].id,
                                      today=TODAY)
    by_id = {r["appointment_id"]: r for r in rows}
    late, waiting, untold = (scenario["appointments"][i] for i in (1, 2, 6))
    assert set(by_id) == {late.id, waiting.id, untold.id}
    assert by_id[late.id]["new_date"] == "2027-03-01" and by_id[late.id]["days_late"] == 28
    assert by_id[late.id]["days_waited"] == (date(2027, 3, 1) - late.referral_date).days
    assert by_id[waiting.id]["new_date"] is None and by_id[waiting.id]["days_late"] == 9
    assert [{k: r[k] for k in ("appointment_id", "patient_id", "priority", "days_late",
                               "days_waited")} for r in rows] == sorted(
        independent.breaches(db_session, scenario["strike"].id, TODAY),
        key=lambda r: (by_id[r["appointment_id"]]["breach_date"], r["appointment_id"]))


def test_report_api_json_and_csv(api_client, db_session, scenario):
    user = staff_service.create_user(session=db_session, username="manager", display_name="M",
                                     password="long enough password", role=Role.CLERK)
    headers = {"Authorization": f"Bearer {staff_service.create_api_key(session=db_session, user=user)}"}
    strike_id = scenario["strike"].id
    report = api_client.get(f"/api/v1/reports/disruptions/{strike_id}", headers=headers)
    assert report.status_code == 200 and report.json()["funnel"]["postponed"] == 7
    assert report.json()["phone_line"]["answered"] == 0
    csv = api_client.get(f"/api/v1/reports/disruptions/{strike_id}.csv", headers=headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "specialty,priority,postponed,rebooked,waiting,breaching"
    assert api_client.get(f"/api/v1/reports/disruptions/{strike_id}/breaches.csv",
                          headers=headers).status_code == 200
    assert api_client.get(f"/api/v1/reports/disruptions/{strike_id}").status_code == 401
    assert api_client.get("/api/v1/reports/disruptions/999999", headers=headers).status_code == 404
