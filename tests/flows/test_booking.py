"""Book and confirm: a staff booking (console, handover API, offers API) queues exactly one
confirmation to the patient, on their channel, in London time with the site; a second
submission of the same booking books nothing and confirms nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.appointments.models import Appointment, AppointmentStatus
from api.db import utcnow
from api.flows import booking as booking_flow
from api.handover import casework
from api.messaging.models import Channel, Direction, Message, MessageCategory
from api.patients.models import CommunicationNeed
from api.scheduling import service as scheduling_service
from api.scheduling.models import Offer
from api.staff.models import Role
from tests.console.test_console import csrf_of, sign_in
from tests.factories import make_postponed_appointment
from tests.handover.helpers import Desk


@pytest.fixture
def desk(db_session):
    """The bookings desk, its free slots moved to British Summer Time (UTC+1), so a time
    written in UTC instead of London time shows: the first is 9:30 UTC, 10:30am in London."""
    desk = Desk(db_session)
    first = datetime(utcnow().year + 1, 7, 14, 9, 30, tzinfo=UTC)  # a Wednesday
    for days, slot in enumerate(desk.slots):
        slot.start_at = first + timedelta(days=days)
    db_session.flush()
    return desk


def confirmations(session, patient_id: int) -> list[Message]:
    return list(session.scalars(select(Message).where(
        Message.patient_id == patient_id, Message.direction == Direction.OUTBOUND,
        Message.category == MessageCategory.SERVICE)))


def first_offer(desk, handover, appointment) -> Offer:
    offers = casework.find_slots(session=desk.session, handover=handover,
                                 user=desk.users[Role.CLERK],
                                 appointment_id=appointment.id)
    return next(o for o in offers if o.slot_id == desk.slots[0].id)


def assert_confirms_the_first_slot(desk, message: Message) -> None:
    assert "You're booked: Wed 14 Jul, 10:30am, " in message.body  # London time, not UTC
    assert "9:30am" not in message.body
    assert desk.site.name in message.body
    assert "list of the medicines" in message.body  # what to bring


def test_console_booking_confirms_once_on_the_patients_channel(api_client, desk, db_session):
    handover, patient, appointment, conversation = desk.patient_case()
    sign_in(api_client, "t.clerk")
    token = csrf_of(api_client.get(f"/console/handovers/{handover.id}").text)
    base = f"/console/handovers/{handover.id}"
    slots = api_client.post(f"{base}/slots", data={"csrf_token": token,
                                                    "appointment_id": appointment.id})
    offer_ids = re.findall(r'name="offer_id" value="(\d+)"', slots.text)
    offer = next(db_session.get(Offer, int(i)) for i in offer_ids
                 if db_session.get(Offer, int(i)).slot_id == desk.slots[0].id)

    booked = api_client.post(f"{base}/book", data={"csrf_token": token, "offer_id": offer.id})
    assert "Appointment booked. The patient&#39;s confirmation is queued" in booked.text
    again = api_client.post(f"{base}/book", data={"csrf_token": token, "offer_id": offer.id})
    assert again.status_code == 409 and "There is a problem" in again.text

    [message] = confirmations(db_session, patient.id)
    assert message.channel is Channel.SMS and message.to_address == conversation.address
    assert message.conversation_id == conversation.id  # in the transcript staff read
    assert_confirms_the_first_slot(desk, message)
    db_session.refresh(appointment)
    assert appointment.status is AppointmentStatus.REBOOKED
    assert appointment.slot_id == desk.slots[0].id


def test_handover_api_booking_confirms_once_on_whatsapp_while_its_window_is_open(
        api_client, desk, db_session):
    handover, patient, appointment, conversation = desk.patient_case(channel=Channel.WHATSAPP)
    offer = first_offer(desk, handover, appointment)
    headers = desk.auth(Role.CLERK)

    booked = api_client.post(f"/api/v1/handovers/{handover.id}/book", headers=headers,
                             json={"offer_id": offer.id})
    assert booked.status_code == 200 and booked.json()["status"] == "rebooked"
    assert booked.json()["start_at"].startswith(f"{desk.slots[0].start_at.year}-07-14T09:30")
    again = api_client.post(f"/api/v1/handovers/{handover.id}/book", headers=headers,
                            json={"offer_id": offer.id})
    assert again.status_code == 409

    [message] = confirmations(db_session, patient.id)
    assert message.channel is Channel.WHATSAPP
    assert message.to_address == f"whatsapp:{patient.mobile}" == conversation.address
    assert_confirms_the_first_slot(desk, message)
    assert db_session.scalar(select(Appointment.status).where(
        Appointment.id == appointment.id)) is AppointmentStatus.REBOOKED


def test_offers_api_booking_confirms_once_by_text_when_the_patient_never_wrote(
        api_client, desk, db_session):
    # From the waiting list, not a handover: the patient has never written to us.
    appointment = make_postponed_appointment(db_session, specialty=desk.specialty)
    patient = appointment.patient
    offers = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                            source="staff")
    offer = next(o for o in offers if o.slot_id == desk.slots[0].id)
    headers = desk.auth(Role.CLERK)

    booked = api_client.post(f"/api/v1/offers/{offer.id}/book", headers=headers,
                             json={"patient_id": patient.id})
    assert booked.status_code == 200 and booked.json()["status"] == "rebooked"
    again = api_client.post(f"/api/v1/offers/{offer.id}/book", headers=headers,
                            json={"patient_id": patient.id})
    assert again.status_code == 409

    [message] = confirmations(db_session, patient.id)
    assert message.channel is Channel.SMS and message.to_address == patient.mobile
    assert message.conversation_id is None
    assert message.idempotency_key == f"confirm:offer:{offer.id}"
    assert_confirms_the_first_slot(desk, message)


def test_whatsapp_outside_its_window_confirms_by_text(desk, db_session):
    handover, patient, appointment, conversation = desk.patient_case(channel=Channel.WHATSAPP)
    offer = first_offer(desk, handover, appointment)
    for message in db_session.scalars(select(Message).where(
            Message.conversation_id == conversation.id, Message.direction == Direction.INBOUND)):
        message.created_at = utcnow() - timedelta(days=2)  # the 24-hour window has closed
    db_session.flush()

    booking = booking_flow.book_for_handover(session=db_session, settings=desk.settings,
                                             handover=handover, user=desk.users[Role.CLERK],
                                             offer_id=offer.id)

    assert booking.message.channel is Channel.SMS
    assert booking.message.to_address == patient.mobile
    assert confirmations(db_session, patient.id) == [booking.message]


def test_a_patient_who_cannot_be_texted_is_booked_but_not_texted(desk, db_session):
    handover, patient, appointment, _ = desk.patient_case(
        communication_needs=[CommunicationNeed.BSL])
    offer = first_offer(desk, handover, appointment)

    booking = booking_flow.book_for_handover(session=db_session, settings=desk.settings,
                                             handover=handover, user=desk.users[Role.CLERK],
                                             offer_id=offer.id)

    assert booking.appointment.status is AppointmentStatus.REBOOKED
    assert booking.message is None and "10:30am" in booking.confirmation
    assert confirmations(db_session, patient.id) == []


def test_a_refused_booking_queues_nothing(desk, db_session):
    handover, patient, appointment, _ = desk.patient_case()
    offer = first_offer(desk, handover, appointment)
    offer.expires_at = utcnow() - timedelta(minutes=1)
    db_session.flush()

    with pytest.raises(scheduling_service.OfferExpired):
        booking_flow.book_for_handover(session=db_session, settings=desk.settings,
                                       handover=handover, user=desk.users[Role.CLERK],
                                       offer_id=offer.id)

    assert confirmations(db_session, patient.id) == []
    assert db_session.get(Appointment, appointment.id).status is AppointmentStatus.OFFERED


def test_the_console_says_when_the_patient_could_not_be_texted(api_client, desk, db_session):
    handover, patient, appointment, _ = desk.patient_case(
        communication_needs=[CommunicationNeed.NO_TEXT_MESSAGES])
    offer = first_offer(desk, handover, appointment)
    sign_in(api_client, "t.clerk")
    token = csrf_of(api_client.get(f"/console/handovers/{handover.id}").text)

    booked = api_client.post(f"/console/handovers/{handover.id}/book",
                             data={"csrf_token": token, "offer_id": offer.id})

    assert "cannot be sent a text message: please tell them the new date" in booked.text
    assert confirmations(db_session, patient.id) == []
