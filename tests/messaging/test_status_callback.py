"""POST /twilio/status: signed, moves status forward only, feeds the fallbacks."""

import pytest

from api.messaging import outbox
from api.messaging.models import Channel, Message, MessageStatus
from tests.twilio_helpers import post_signed, signature_for


def _sent_message(factory, settings, channel=Channel.SMS, to="+447700900700", sid="SMabc123"):
    with factory() as session:
        message = outbox.queue_message(session=session, settings=settings,
                                       channel=channel, to_address=to, text="hi")
        message.status, message.provider_sid = MessageStatus.SENT, sid
        session.commit()
        return message.id


def _status(factory, message_id):
    with factory() as session:
        message = session.get(Message, message_id)
        return message.status, message.error_code


def test_delivered_then_a_late_sent_keeps_delivered(live_client, live_settings,
                                                    live_session_factory):
    message_id = _sent_message(live_session_factory, live_settings)
    for status in ("delivered", "sent"):
        response = post_signed(live_client, {"MessageSid": "SMabc123", "MessageStatus": status},
                               path="/twilio/status")
        assert response.status_code == 200
    assert _status(live_session_factory, message_id) == (MessageStatus.DELIVERED, None)


def test_undelivered_records_the_error_code(live_client, live_settings, live_session_factory):
    message_id = _sent_message(live_session_factory, live_settings)
    post_signed(live_client, {"MessageSid": "SMabc123", "MessageStatus": "undelivered",
                              "ErrorCode": "30003"}, path="/twilio/status")
    assert _status(live_session_factory, message_id) == (MessageStatus.UNDELIVERED, 30003)


def test_unsigned_status_callback_is_refused(live_client, live_settings, live_session_factory):
    message_id = _sent_message(live_session_factory, live_settings)
    form = {"MessageSid": "SMabc123", "MessageStatus": "failed"}
    response = live_client.post("/twilio/status", data=form,
                                headers={"X-Twilio-Signature": signature_for(form)})  # wrong path
    assert response.status_code == 403
    assert _status(live_session_factory, message_id) == (MessageStatus.SENT, None)


def test_unknown_sid_and_malformed_callbacks(live_client, live_session_factory):
    ok = post_signed(live_client, {"MessageSid": "SMnope", "MessageStatus": "delivered"},
                     path="/twilio/status")
    assert ok.status_code == 200
    bad = post_signed(live_client, {"MessageStatus": "delivered"}, path="/twilio/status")
    assert bad.status_code == 400


def test_whatsapp_read_receipt(live_client, live_settings, live_session_factory):
    message_id = _sent_message(live_session_factory, live_settings, channel=Channel.WHATSAPP,
                               to="whatsapp:+447700900701", sid="SMwa1")
    post_signed(live_client, {"MessageSid": "SMwa1", "MessageStatus": "read"},
                path="/twilio/status")
    with live_session_factory() as session:
        message = session.get(Message, message_id)
    assert message.status is MessageStatus.READ and message.delivered_at is not None


@pytest.mark.parametrize("form", [
    {"MessageSid": "SM\x00abc123", "MessageStatus": "delivered"},
    {"MessageSid": "SMabc123", "MessageStatus": "deliv\x00ered"},
    {"MessageSid": "SMabc123", "MessageStatus": "failed", "ErrorCode": "99999999999"},
    {"MessageSid": "SM" + "a" * 70, "MessageStatus": "delivered"},
])
def test_what_the_database_cannot_hold_is_a_clear_400_not_a_500(
        live_client, live_settings, live_session_factory, form):
    message_id = _sent_message(live_session_factory, live_settings)
    response = post_signed(live_client, form, path="/twilio/status")
    assert response.status_code == 400
    assert response.json() == {"detail": "malformed status callback"}
    assert _status(live_session_factory, message_id) == (MessageStatus.SENT, None)
