"""Staff replies go to the case's conversation, on its channel and address (a case with no
conversation: an SMS to the patient's mobile); WhatsApp's 24-hour window is respected; a case
opened by staff on a conversation is told that conversation's facts."""

from datetime import timedelta

import pytest

from api.audit import service as audit_service
from api.db import utcnow
from api.flows import staff_case as staff_case_flow
from api.flows import staff_reply as staff_reply_flow
from api.handover import casework
from api.handover import service as handover_service
from api.handover.models import HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory
from api.staff.models import Role
from tests.handover.helpers import Desk, inbound


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


def test_reply_goes_out_on_the_patients_channel(desk, db_session):
    handover, patient, _, conversation = desk.patient_case()
    message = staff_reply_flow.reply(session=db_session, settings=desk.settings,
                                     handover=handover, user=desk.users[Role.CLERK],
                                     text="Hello, this is Sam from the bookings team.")
    assert message.direction is Direction.OUTBOUND and message.channel is Channel.SMS
    assert message.to_address == conversation.address
    assert message.category is MessageCategory.STAFF_REPLY
    assert message.conversation_id == conversation.id
    assert handover.status is HandoverStatus.CLAIMED  # replying takes the case
    with pytest.raises(casework.HandoverError):
        staff_reply_flow.reply(session=db_session, settings=desk.settings, handover=handover,
                               user=desk.users[Role.CLERK], text="")


def test_reply_goes_to_the_conversations_address_not_the_patients_mobile(desk, db_session):
    handover, patient, _, conversation = desk.patient_case(channel=Channel.WHATSAPP)
    conversation.address = "whatsapp:+447700900777"  # the patient wrote from another phone
    db_session.flush()
    assert staff_reply_flow.reply_options(session=db_session, handover=handover)["channel"] == \
        "whatsapp"
    message = staff_reply_flow.reply(session=db_session, settings=desk.settings,
                                     handover=handover, user=desk.users[Role.CLERK],
                                     template="reply_here")
    assert (message.channel, message.to_address) == (Channel.WHATSAPP, "whatsapp:+447700900777")
    assert patient.mobile not in message.to_address
    [sent] = [e for e in audit_service.list_events(session=db_session, patient_id=patient.id)
              if e.action == "send_reply"]
    assert sent.details == {"message_id": message.id, "template": "reply_here"}


def test_a_case_with_no_conversation_is_answered_by_sms_to_the_mobile(desk, db_session):
    _, patient, *_ = desk.patient_case()
    handover = handover_service.open_handover(
        session=db_session, settings=desk.settings, reason=HandoverReason.DELIVERY_FAILURE,
        urgency=Urgency.NORMAL, created_by="gateway", patient_id=patient.id, summary="Call.")
    message = staff_reply_flow.reply(session=db_session, settings=desk.settings,
                                     handover=handover, user=desk.users[Role.CLERK],
                                     text="Please call us.")
    assert (message.channel, message.to_address) == (Channel.SMS, patient.mobile)
    assert message.conversation_id is None


def test_whatsapp_window_is_respected(desk, db_session):
    handover, _, _, conversation = desk.patient_case(channel=Channel.WHATSAPP)
    clerk = desk.users[Role.CLERK]
    # Inside the 24 hours: free text.
    assert staff_reply_flow.reply_options(session=db_session, handover=handover)["free_text"]
    staff_reply_flow.reply(session=db_session, settings=desk.settings, handover=handover,
                           user=clerk, text="Hello")
    # Move the patient's last message back 25 hours: the window closes.
    for message in db_session.query(Message).filter_by(conversation_id=conversation.id,
                                                       direction=Direction.INBOUND):
        message.created_at = utcnow() - timedelta(hours=25)
    db_session.flush()
    assert not staff_reply_flow.reply_options(session=db_session, handover=handover)["free_text"]
    with pytest.raises(casework.WindowClosed):
        staff_reply_flow.reply(session=db_session, settings=desk.settings, handover=handover,
                               user=clerk, text="Hello again")
    template = staff_reply_flow.reply(session=db_session, settings=desk.settings,
                                      handover=handover, user=clerk, template="please_call")
    assert template.content_sid and template.content_sid.startswith("HX")
    inbound(db_session, conversation, "hi")  # a new message reopens it
    assert staff_reply_flow.reply_options(session=db_session, handover=handover)["free_text"]


def test_staff_open_a_case_on_a_conversation_with_its_facts(desk, db_session):
    old, patient, _, conversation = desk.patient_case(channel=Channel.WHATSAPP)
    old.status = HandoverStatus.RESOLVED
    handover = staff_case_flow.open_case(
        session=db_session, settings=desk.settings, user=desk.users[Role.CLERK],
        reason=HandoverReason.COMPLAINT, urgency=Urgency.NORMAL,
        conversation_id=conversation.id, note="Rang about parking")
    assert handover.conversation_id == conversation.id and handover.created_by == "staff"
    assert "Channel: whatsapp. Identity verified." in handover.summary
    assert "Rang about parking" in handover.summary
    with pytest.raises(casework.NotFound):
        staff_case_flow.open_case(
            session=db_session, settings=desk.settings, user=desk.users[Role.CLERK],
            reason=HandoverReason.COMPLAINT, urgency=Urgency.NORMAL, conversation_id=10**9)


def test_a_case_from_a_phone_call_is_answered_by_text_to_the_mobile_that_called(desk,
                                                                                 db_session):
    handover, patient, _, conversation = desk.patient_case(channel=Channel.VOICE)

    message = staff_reply_flow.reply(session=db_session, settings=desk.settings,
                                     handover=handover, user=desk.users[Role.CLERK],
                                     text="Hello, this is Sam from the bookings team.")

    assert message.channel is Channel.SMS and message.to_address == conversation.address


def test_a_case_from_a_withheld_call_is_answered_on_the_patients_mobile_or_not_at_all(
        desk, db_session):
    handover, patient, _, conversation = desk.patient_case(channel=Channel.VOICE)
    conversation.address = "withheld:0123456789abcdef01234567"
    db_session.flush()
    assert staff_reply_flow.channel_and_address(session=db_session, handover=handover) == (
        Channel.SMS, patient.mobile)

    handover.patient_id = None
    assert staff_reply_flow.reply_options(session=db_session, handover=handover)["channel"] \
        is None
