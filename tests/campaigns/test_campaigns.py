"""Campaigns: selection, channel choice, content rules, idempotency, quiet hours, pause/resume,
chasers, confirmations and reminders."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus, Priority
from api.campaigns import followups, selection
from api.campaigns import service as campaigns_service
from api.campaigns.models import CallReason, CampaignRecipient, CampaignStatus, RecipientRoute
from api.config import Settings
from api.db import utcnow
from api.messaging.models import Channel, Message, MessageCategory, MessageStatus
from api.scheduling.models import Disruption
from tests.factories import make_appointment, make_patient, make_site, make_slot, make_specialty

SETTINGS = Settings(environment="test", send_window_start="00:00",
                    send_window_end="23:59:59.999999")


@pytest.fixture
def trust(db_session):
    """A disruption with postponed appointments for patients reachable in every way."""
    site, other_site = make_site(db_session), make_site(db_session)
    cardio = make_specialty(db_session, code="CARD-T", name="Cardiology")
    derm = make_specialty(db_session, code="DERM-T", name="Dermatology")
    strike = Disruption(name="Strike", starts_at=utcnow(), ends_at=utcnow() + timedelta(days=3),
                        staff_group="resident doctors")
    db_session.add(strike)
    db_session.flush()
    people = {
        "whatsapp": make_patient(db_session, whatsapp_opt_in=True),
        "sms": make_patient(db_session),
        "email": make_patient(db_session, mobile=None, email="pat@example.com"),
        "nothing": make_patient(db_session, mobile=None, email=None),
        "opted_out": make_patient(db_session, opted_out=True),
        "bsl": make_patient(db_session, communication_needs=["bsl"]),
    }
    for key, patient in people.items():
        specialty = derm if key == "sms" else cardio
        appointment = make_appointment(db_session, patient=patient, specialty=specialty,
                                       site_id=other_site.id if key == "email" else site.id,
                                       priority=Priority.P2 if key == "whatsapp"
                                       else Priority.ROUTINE)
        appointments_service.change_status(session=db_session, appointment=appointment,
                                           to_status=AppointmentStatus.POSTPONED,
                                           reason="industrial action", actor="system")
        appointment.disruption_id = strike.id
    # A second postponed appointment for one patient: still one message.
    extra = make_appointment(db_session, patient=people["sms"], specialty=cardio, site_id=site.id)
    appointments_service.change_status(session=db_session, appointment=extra,
                                       to_status=AppointmentStatus.POSTPONED,
                                       reason="industrial action", actor="system")
    extra.disruption_id = strike.id
    db_session.flush()
    return {"strike": strike, "people": people, "site": site, "other_site": other_site,
            "cardio": cardio, "derm": derm}


def _campaign(db_session, trust, **kwargs):
    values = dict(name="Strike notice", disruption_id=trust["strike"].id,
                  sms_template="{trust_name}: your appointment has moved. Reply to choose a new "
                               "date or call {bookings_phone}.")
    return campaigns_service.create(session=db_session, **(values | kwargs))


def _recipients(db_session, campaign):
    return {r.patient_id: r for r in db_session.scalars(
        select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id))}


def _send(session, campaign_id: int, settings: Settings = SETTINGS) -> int:
    """Send as the edges do, committing at every step; how many messages were queued."""
    queued = 0
    for step in campaigns_service.send(session=session, campaign_id=campaign_id,
                                       settings=settings):
        session.commit()
        queued = step.queued
    return queued


def test_selection_filters_by_priority_specialty_and_site(db_session, trust):
    everyone = _campaign(db_session, trust)
    assert len(selection.selected_appointments(session=db_session, campaign=everyone)) == 7
    p2 = _campaign(db_session, trust, filters={"priorities": ["P2"]})
    assert [a.patient_id for a in selection.selected_appointments(
        session=db_session, campaign=p2)] == [trust["people"]["whatsapp"].id]
    derm = _campaign(db_session, trust, filters={"specialties": ["DERM-T"]})
    assert len(selection.selected_appointments(session=db_session, campaign=derm)) == 1
    other = _campaign(db_session, trust, filters={"sites": [trust["other_site"].code]})
    assert [a.patient_id for a in selection.selected_appointments(
        session=db_session, campaign=other)] == [trust["people"]["email"].id]


@pytest.mark.parametrize("filters", [{"priorities": ["P9"]}, {"specialties": ["NOPE"]},
                                     {"colour": ["red"]}])
def test_unknown_filters_are_refused(db_session, trust, filters):
    with pytest.raises(campaigns_service.CampaignError):
        _campaign(db_session, trust, filters=filters)


@pytest.mark.parametrize("template", ["Dear {name}, your cardiology appointment moved",
                                      "Your appointment moved. Reply CANCEL if not needed",
                                      "   "])
def test_templates_with_personal_detail_or_carrier_keywords_are_refused(db_session, trust,
                                                                         template):
    with pytest.raises(campaigns_service.CampaignError):
        _campaign(db_session, trust, sms_template=template)


def test_preview_counts_each_route_before_sending(db_session, trust):
    campaign = _campaign(db_session, trust, whatsapp_content_sid="HX123")
    preview = campaigns_service.preview(session=db_session, campaign_id=campaign.id,
                                        settings=SETTINGS)
    assert preview["patients"] == 6 and preview["appointments"] == 7
    assert preview["by_route"] == {"whatsapp": 1, "sms": 1, "email": 1, "call_list": 3}
    assert preview["call_list_reasons"] == {"no_contact_route": 1, "opted_out": 1,
                                            "communication_needs": 1}
    assert SETTINGS.trust_name in preview["messages"]["sms"]["body"]
    assert db_session.scalar(select(Message.id)) is None  # nothing queued


def test_channel_choice_and_one_message_per_patient_even_when_sent_twice(db_session, trust):
    campaign = _campaign(db_session, trust, whatsapp_content_sid="HX123",
                         whatsapp_variables={"1": "Northshire"})
    assert _send(db_session, campaign.id) == 3
    assert _send(db_session, campaign.id) == 0
    people, recipients = trust["people"], _recipients(db_session, campaign)
    assert recipients[people["whatsapp"].id].route is RecipientRoute.WHATSAPP
    assert recipients[people["sms"].id].route is RecipientRoute.SMS
    assert recipients[people["email"].id].route is RecipientRoute.EMAIL
    assert recipients[people["bsl"].id].call_reason is CallReason.COMMUNICATION_NEEDS
    messages = db_session.scalars(select(Message)).all()
    assert len(messages) == 3
    by_channel = {m.channel: m for m in messages}
    assert by_channel[Channel.WHATSAPP].content_sid == "HX123"
    assert by_channel[Channel.EMAIL].to_address == "pat@example.com"
    for message in messages:
        assert message.category is MessageCategory.NOTIFICATION
        assert people["sms"].given_name not in message.body
        assert "Cardiology" not in message.body and "Dermatology" not in message.body


def test_without_a_whatsapp_template_whatsapp_users_get_sms(db_session, trust):
    campaign = _campaign(db_session, trust)
    _send(db_session, campaign.id)
    recipient = _recipients(db_session, campaign)[trust["people"]["whatsapp"].id]
    assert recipient.route is RecipientRoute.SMS


def test_quiet_hours_hold_messages_until_the_morning(db_session, trust):
    night = Settings(environment="test", send_window_start="08:00", send_window_end="08:00")
    campaign = _campaign(db_session, trust)
    _send(db_session, campaign.id, night)
    for message in db_session.scalars(select(Message)):
        local = message.next_attempt_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
        assert (local.hour, local.minute) == (8, 0)


def test_pause_resume_cancel(db_session, trust):
    campaign = _campaign(db_session, trust)
    _send(db_session, campaign.id)
    assert campaigns_service.pause(session=db_session, campaign_id=campaign.id) == 3
    assert {m.status for m in db_session.scalars(select(Message))} == {MessageStatus.HELD}
    with pytest.raises(campaigns_service.CampaignError):
        _send(db_session, campaign.id)
    assert campaigns_service.resume(session=db_session, campaign_id=campaign.id,
                                    settings=SETTINGS) == 3
    assert {m.status for m in db_session.scalars(select(Message))} == {MessageStatus.QUEUED}
    assert campaigns_service.cancel(session=db_session, campaign_id=campaign.id) == 3
    progress = campaigns_service.progress(session=db_session, campaign_id=campaign.id)
    assert progress["cancelled"] == 3 and progress["queued"] == 0
    assert progress["status"] == CampaignStatus.CANCELLED


def test_chaser_once_then_call_list(db_session, trust):
    campaign = _campaign(db_session, trust)
    _send(db_session, campaign.id)
    for message in db_session.scalars(select(Message)):
        message.status = MessageStatus.DELIVERED
    replier = _recipients(db_session, campaign)[trust["people"]["email"].id]
    db_session.add(Message(direction="inbound", channel=Channel.EMAIL,
                           from_address=replier.address, to_address="x", body="when?",
                           status=MessageStatus.PROCESSED, category=MessageCategory.PATIENT,
                           created_at=utcnow() + timedelta(seconds=1)))
    db_session.flush()
    assert followups.record_replies(session=db_session) == 1
    later = utcnow() + timedelta(hours=49)
    assert followups.send_chasers(session=db_session, settings=SETTINGS, now=later) == 2
    assert followups.send_chasers(session=db_session, settings=SETTINGS, now=later) == 0
    chasers = db_session.scalars(select(Message).where(
        Message.category == MessageCategory.CHASER)).all()
    assert len(chasers) == 2
    followups.send_chasers(session=db_session, settings=SETTINGS,
                           now=later + timedelta(hours=49))
    recipients = _recipients(db_session, campaign)
    assert recipients[trust["people"]["sms"].id].call_reason is CallReason.NO_REPLY
    assert recipients[replier.patient_id].route is RecipientRoute.EMAIL
    progress = campaigns_service.progress(session=db_session, campaign_id=campaign.id)
    assert progress["replied"] == 1 and progress["call_list"] == 5


def test_one_reminder_before_the_new_date(db_session, trust):
    # The booking's own confirmation is the book-and-confirm flow's (tests/flows).
    patient = trust["people"]["sms"]
    slot = make_slot(db_session, site=trust["site"], specialty=trust["cardio"],
                     start_at=utcnow().replace(microsecond=0) + timedelta(days=2))
    make_appointment(db_session, patient=patient, specialty=trust["cardio"],
                     slot_id=slot.id, status=AppointmentStatus.REBOOKED)
    assert followups.send_reminders(session=db_session, settings=SETTINGS) == 1
    assert followups.send_reminders(session=db_session, settings=SETTINGS) == 0
    reminder = db_session.scalars(select(Message).where(
        Message.category == MessageCategory.REMINDER)).one()
    assert reminder.to_address == patient.mobile and "reply" in reminder.body
    assert "Cardiology" not in reminder.body


def test_reminders_skip_dates_further_away(db_session, trust):
    slot = make_slot(db_session, site=trust["site"], specialty=trust["cardio"],
                     start_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=10))
    make_appointment(db_session, patient=trust["people"]["sms"], specialty=trust["cardio"],
                     slot_id=slot.id, status=AppointmentStatus.REBOOKED,
                     referral_date=date(2026, 9, 1))
    assert followups.send_reminders(session=db_session, settings=SETTINGS) == 0


def test_send_leaves_every_commit_to_its_caller(db_session, trust):
    campaign = _campaign(db_session, trust)
    db_session.commit()
    steps = list(campaigns_service.send(session=db_session, campaign_id=campaign.id,
                                        settings=SETTINGS, batch_size=1))
    assert [(s.queued, s.total) for s in steps] == [(0, 3), (1, 3), (2, 3), (3, 3), (3, 3)]
    db_session.rollback()  # the caller did not commit: nothing was kept
    assert db_session.scalar(select(Message.id)) is None
    assert not _recipients(db_session, campaign)
