"""Out-of-hours escalation: an urgent handover waiting outside working hours alerts the
on-call contact (no patient data), again every few minutes until someone acknowledges it in
the console or claims the case; the alert goes day or night, past the daily cap."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.audit.models import AuditEvent
from api.handover import casework, on_call
from api.handover.models import (
    Handover,
    HandoverReason,
    HandoverStatus,
    OnCallAlert,
    Urgency,
)
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.patients.models import Patient
from api.staff.models import Role
from tests.console.test_console import csrf_of, sign_in
from tests.handover.helpers import Desk

ONCALL = "+447700900999"
TUESDAY_2AM = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TUESDAY_10AM = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CHRISTMAS_10AM = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)  # a Friday, a bank holiday
SATURDAY_NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def desk(db_session):
    desk = Desk(db_session)
    desk.settings = desk.settings.model_copy(update={
        "oncall_sms_number": ONCALL, "oncall_repeat_minutes": 15,
        "working_hours_start": "08:00", "working_hours_end": "18:00"})
    return desk


@pytest.fixture
def red_flag(desk):
    handover, patient, _, conversation = desk.patient_case(
        reason=HandoverReason.RED_FLAG, urgency=Urgency.URGENT,
        text="crushing chest pain since last night")
    return handover, patient, conversation


def alerts(session) -> list[Message]:
    return list(session.scalars(select(Message).where(
        Message.category == MessageCategory.STAFF_ALERT).order_by(Message.id)))


def run(desk, now) -> int:
    return on_call.send_due_alerts(session=desk.session, settings=desk.settings, now=now)


def test_an_urgent_handover_at_2am_alerts_the_on_call_number(desk, red_flag, db_session):
    handover, patient, conversation = red_flag
    assert run(desk, TUESDAY_2AM) == 1
    [alert] = alerts(db_session)
    assert alert.direction is Direction.OUTBOUND and alert.channel is Channel.SMS
    assert alert.to_address == ONCALL and alert.status is MessageStatus.QUEUED
    assert alert.body == ("Urgent handover waiting in Rebook: open the console. "
                          f"Case {handover.id}: {desk.settings.public_base_url}/console/queue")
    # Nothing about the patient: not on the message, not in its words.
    assert alert.patient_id is None and alert.conversation_id is None
    for secret in (patient.given_name, patient.family_name, patient.nhs_number,
                   patient.mobile, patient.mobile[-6:], "chest", "pain", "red flag",
                   conversation.address, "Dermatology"):
        assert secret.lower() not in alert.body.lower(), secret


def test_none_at_10am_on_a_weekday(desk, red_flag, db_session):
    assert run(desk, TUESDAY_10AM) == 0
    assert alerts(db_session) == []
    assert db_session.scalars(select(OnCallAlert)).all() == []


@pytest.mark.parametrize("moment", [CHRISTMAS_10AM, SATURDAY_NOON,
                                    datetime(2026, 12, 1, 18, 30, tzinfo=UTC)])
def test_a_bank_holiday_a_weekend_and_the_evening_are_out_of_hours(desk, red_flag, db_session,
                                                                   moment):
    assert run(desk, moment) == 1
    assert len(alerts(db_session)) == 1


def test_only_urgent_open_cases_alert(desk, db_session):
    desk.patient_case(reason=HandoverReason.COMPLAINT, urgency=Urgency.HIGH)
    desk.patient_case(reason=HandoverReason.ASKED_FOR_PERSON, urgency=Urgency.NORMAL)
    assert run(desk, TUESDAY_2AM) == 0


def test_repeated_until_acknowledged_in_the_console(desk, red_flag, db_session):
    handover, *_ = red_flag
    clerk = desk.users[Role.CLERK]
    assert run(desk, TUESDAY_2AM) == 1
    assert run(desk, TUESDAY_2AM + timedelta(minutes=5)) == 0  # not before the interval
    assert run(desk, TUESDAY_2AM + timedelta(minutes=15)) == 1
    assert run(desk, TUESDAY_2AM + timedelta(minutes=30)) == 1
    assert on_call.acknowledge(session=db_session, staff=clerk,
                               handover_ids=[handover.id]) == 1
    assert run(desk, TUESDAY_2AM + timedelta(minutes=45)) == 0
    assert run(desk, TUESDAY_2AM + timedelta(hours=3)) == 0
    assert len(alerts(db_session)) == 3
    assert len({m.idempotency_key for m in alerts(db_session)}) == 3
    alert = db_session.scalar(select(OnCallAlert))
    assert (alert.sends, alert.acknowledged_by_id, alert.acknowledged_how) == \
        (3, clerk.id, "console")
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "acknowledge_on_call"))
    assert event.actor == clerk.audit_actor and event.object_id == str(handover.id)
    # Acknowledging again changes nothing and records nothing.
    assert on_call.acknowledge(session=db_session, staff=clerk, handover_ids=[handover.id]) == 0


def test_claiming_the_case_also_stops_the_alerts(desk, red_flag, db_session):
    handover, *_ = red_flag
    assert run(desk, TUESDAY_2AM) == 1
    casework.claim(session=db_session, handover=handover, user=desk.users[Role.CLINICIAN])
    assert run(desk, TUESDAY_2AM + timedelta(minutes=20)) == 0
    alert = db_session.scalar(select(OnCallAlert))
    assert alert.acknowledged_how == "claimed"
    assert alert.acknowledged_by_id == desk.users[Role.CLINICIAN].id
    # Handed back to the queue unclaimed later: the alert stays acknowledged.
    handover.status = HandoverStatus.OPEN
    assert run(desk, TUESDAY_2AM + timedelta(minutes=40)) == 0


def test_a_case_no_longer_urgent_stops_alerting(desk, red_flag, db_session):
    handover, *_ = red_flag
    assert run(desk, TUESDAY_2AM) == 1
    handover.urgency = Urgency.HIGH
    assert run(desk, TUESDAY_2AM + timedelta(minutes=20)) == 0
    assert db_session.scalar(select(OnCallAlert)).acknowledged_how == "not_urgent"
    assert on_call.waiting(session=db_session) == []


def test_no_repeat_once_the_team_is_at_work(desk, red_flag, db_session):
    assert run(desk, TUESDAY_2AM) == 1
    assert run(desk, TUESDAY_10AM) == 0


def test_an_email_too_when_configured(desk, red_flag, db_session):
    desk.settings = desk.settings.model_copy(update={"oncall_email": "oncall@example.nhs.uk"})
    assert run(desk, TUESDAY_2AM) == 2
    email = next(m for m in alerts(db_session) if m.channel is Channel.EMAIL)
    assert email.to_address == "oncall@example.nhs.uk"
    assert email.subject == "Urgent handover waiting in Rebook"


def test_with_no_contact_configured_the_banner_still_shows(desk, red_flag, db_session):
    desk.settings = desk.settings.model_copy(update={"oncall_sms_number": ""})
    assert run(desk, TUESDAY_2AM) == 0
    assert [h.id for _, h in on_call.waiting(session=db_session)] == [red_flag[0].id]


def test_the_banner_on_the_queue_and_dashboard_until_acknowledged(api_client, desk, red_flag,
                                                                  db_session):
    handover, patient, _ = red_flag
    run(desk, TUESDAY_2AM)
    sign_in(api_client, "t.clerk")
    for page in ("/console/queue", "/console/dashboard"):
        html = api_client.get(page).text
        assert 'class="on-call-banner"' in html, page
        assert f'href="/console/handovers/{handover.id}">Case {handover.id}</a>' in html
        assert ">Acknowledge</button>" in html
    queue = api_client.get("/console/queue").text
    refused = api_client.post("/console/on-call/acknowledge", data={
        "csrf_token": "forged", "handover_id": handover.id}, follow_redirects=False)
    assert refused.status_code == 403
    done = api_client.post("/console/on-call/acknowledge", data={
        "csrf_token": csrf_of(queue), "handover_id": [handover.id], "back": "/console/queue"},
        follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/console/queue?done=acknowledged"
    after = api_client.get(done.headers["location"]).text
    assert "on-call-banner" not in after and "On-call alert acknowledged" in after
    assert "on-call-banner" not in api_client.get("/console/dashboard").text
    assert db_session.scalar(select(OnCallAlert)).acknowledged_how == "console"
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "acknowledge_on_call")).patient_id == patient.id
    assert not re.search(r"on-call-banner", api_client.get("/console/queue?urgent=1").text)


# -- through the dispatcher (sandbox), outside the send window and over the daily cap -------

def _closed_send_window(settings):
    """A send window that is shut now, whatever time the suite runs."""
    from api.system import localtime

    opens = localtime.to_local(datetime.now(UTC) + timedelta(hours=2), settings)
    closes = opens + timedelta(minutes=30)
    return {"send_window_start": opens.strftime("%H:%M"),
            "send_window_end": closes.strftime("%H:%M")}


def test_the_scheduler_queues_it_and_the_dispatcher_sends_it_past_window_and_cap(
        live_settings, live_session_factory):
    from api import jobs
    from api.messaging import outbox
    from api.messaging.dispatcher import Dispatcher
    from api.messaging.senders import SandboxSender
    from tests import factories

    settings = live_settings.model_copy(update={
        "oncall_sms_number": ONCALL, "daily_cap_per_number": 1,
        # Never at work, so the real clock is always out of hours for this test.
        "working_hours_start": "00:00", "working_hours_end": "00:00",
        **_closed_send_window(live_settings)})
    with live_session_factory() as session:
        patient = factories.make_patient(session)
        handover = Handover(reason=HandoverReason.RED_FLAG, urgency=Urgency.URGENT,
                            status=HandoverStatus.OPEN, patient_id=patient.id,
                            due_at=datetime.now(UTC), created_by="safety_screen", summary="x")
        session.add(handover)
        # The on-call number already had its "day's share" and a campaign text waits.
        outbox.queue_message(session=session, settings=settings, channel=Channel.SMS,
                             to_address=ONCALL, text="earlier", category=MessageCategory.REPLY)
        earlier = session.scalar(select(Message).where(Message.body == "earlier"))
        earlier.status, earlier.sent_at = MessageStatus.SENT, datetime.now(UTC)
        outbox.queue_message(session=session, settings=settings, channel=Channel.SMS,
                             to_address=patient.mobile, text="campaign text",
                             category=MessageCategory.NOTIFICATION)
        session.commit()
    done = jobs.run_due_jobs(session_factory=live_session_factory, settings=settings)
    assert done["on_call_alerts"] == 1
    dispatcher = Dispatcher(settings=settings, session_factory=live_session_factory,
                            sender=SandboxSender())
    try:
        dispatcher.run_once()
    finally:
        dispatcher._pool.shutdown(wait=True)
    with live_session_factory() as session:
        alert = session.scalar(select(Message).where(
            Message.category == MessageCategory.STAFF_ALERT))
        assert alert.status is MessageStatus.DELIVERED and alert.to_address == ONCALL
        assert session.get(Patient, patient.id).given_name not in alert.body
        waiting = session.scalar(select(Message).where(Message.body == "campaign text"))
        assert waiting.status is MessageStatus.QUEUED  # the send window holds patients' texts
