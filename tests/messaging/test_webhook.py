"""POST /twilio/messages: signatures, persistence, idempotency, bad input."""

import pytest
from sqlalchemy import func, select

from api.messaging.models import Direction, Message, MessageCategory, MessageStatus
from tests.twilio_helpers import inbound_form, post_signed, signature_for

PATIENT = "+447700900123"


def _count(factory, **filters) -> int:
    with factory() as session:
        query = select(func.count()).select_from(Message)
        for key, value in filters.items():
            query = query.where(getattr(Message, key) == value)
        return session.scalar(query)


def test_valid_signature_is_stored_and_acknowledged(live_client, live_session_factory):
    response = post_signed(live_client, inbound_form(from_=PATIENT, body="hiya"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in response.text
    with live_session_factory() as session:
        message = session.scalars(select(Message)).one()
    assert (message.direction, message.status, message.body) == (
        Direction.INBOUND, MessageStatus.RECEIVED, "hiya")


def test_tampered_body_is_rejected_and_nothing_stored(live_client, live_session_factory):
    form = inbound_form(from_=PATIENT, body="hiya")
    signature = signature_for(form)
    form["Body"] = "hiya!"
    response = live_client.post("/twilio/messages", data=form,
                                headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert _count(live_session_factory) == 0


def test_signature_for_another_url_is_rejected(live_client, live_session_factory):
    form = inbound_form(from_=PATIENT, body="hiya")
    response = post_signed(live_client, form, base_url="https://attacker.example")
    assert response.status_code == 403
    assert _count(live_session_factory) == 0


def test_missing_signature_is_rejected(live_client, live_session_factory):
    response = live_client.post("/twilio/messages", data=inbound_form(from_=PATIENT, body="x"))
    assert response.status_code == 403
    assert _count(live_session_factory) == 0


def test_wrong_token_is_rejected(live_client, live_session_factory):
    response = post_signed(live_client, inbound_form(from_=PATIENT, body="x"), token="nope")
    assert response.status_code == 403


def test_behind_a_tls_proxy_the_public_https_url_is_what_counts(live_client,
                                                               live_session_factory):
    # The request reaches us as http://testserver; Twilio signed https://rebook.test.example.
    form = inbound_form(from_=PATIENT, body="hiya")
    assert post_signed(live_client, form).status_code == 200
    # A signature over the internal http URL is not what Twilio sends: refused.
    form = inbound_form(from_=PATIENT, body="hiya")
    assert post_signed(live_client, form, base_url="http://testserver").status_code == 403


def test_retried_message_sid_is_stored_once(live_client, live_session_factory):
    form = inbound_form(from_=PATIENT, body="hiya")
    for _ in range(3):
        assert post_signed(live_client, form).status_code == 200
    assert _count(live_session_factory) == 1


@pytest.mark.parametrize(
    "body",
    ["\U0001F600\U0001F44D", "x" * 1600, "31/02/1958", "ok ta", "", "<script>alert(1)</script>",
     "DROP TABLE patient;--", "日本語のテキスト"],
)
def test_awkward_bodies_are_stored_verbatim(live_client, live_session_factory, body):
    assert post_signed(live_client, inbound_form(from_=PATIENT, body=body)).status_code == 200
    with live_session_factory() as session:
        assert session.scalars(select(Message.body)).one() == body


def test_body_over_twilios_limit_is_a_clear_400(live_client, live_session_factory):
    response = post_signed(live_client, inbound_form(from_=PATIENT, body="x" * 1601))
    assert response.status_code == 400
    assert "Body" in response.json()["detail"]
    assert _count(live_session_factory) == 0


@pytest.mark.parametrize("length", [41, 64])
def test_a_sender_longer_than_the_conversation_column_is_a_clear_400(
        live_client, live_session_factory, length):
    sender = "whatsapp:+" + "4" * (length - len("whatsapp:+"))
    response = post_signed(live_client, inbound_form(from_=sender, body="hiya"))
    assert response.status_code == 400
    assert "From" in response.json()["detail"]
    assert _count(live_session_factory) == 0


def test_the_longest_sender_the_columns_hold_is_stored(live_client, live_session_factory):
    sender = "whatsapp:+" + "4" * 30  # 40 characters, Conversation.address's size
    assert post_signed(live_client, inbound_form(from_=sender, body="hiya")).status_code == 200
    assert _count(live_session_factory) == 1


@pytest.mark.parametrize("field", ["MessageSid", "From", "To", "Body", "MediaUrl0",
                                   "AccountSid", "ProfileName"])
def test_a_nul_character_in_any_field_is_a_clear_400(live_client, live_session_factory, field):
    form = inbound_form(from_=PATIENT, body="hiya", NumMedia="1",
                        MediaUrl0="https://api.twilio.com/media/ME1", ProfileName="Pat Example")
    form[field] = form[field][:4] + "\x00" + form[field][4:]
    response = post_signed(live_client, form)
    assert response.status_code == 400
    assert response.json()["detail"] == f"malformed Twilio message: NUL character in {field}"
    assert _count(live_session_factory) == 0


def test_malformed_form_is_a_clear_400(live_client, live_session_factory):
    form = {"Body": "hello", "From": PATIENT}  # no MessageSid, no To
    response = post_signed(live_client, form)
    assert response.status_code == 400
    assert "MessageSid" in response.json()["detail"]


def test_whatsapp_message_carries_its_channel(live_client, live_session_factory):
    form = inbound_form(from_=f"whatsapp:{PATIENT}", to="whatsapp:+447700900001",
                        body="", ButtonText="Tue 16 Jan", ButtonPayload="slot_2",
                        WaId="447700900123", ProfileName="Pat")
    assert post_signed(live_client, form).status_code == 200
    with live_session_factory() as session:
        message = session.scalars(select(Message)).one()
    assert message.channel.value == "whatsapp"
    assert message.body == "slot_2"  # the button's payload is what the patient chose


def test_media_urls_are_kept(live_client, live_session_factory):
    form = inbound_form(from_=PATIENT, body="", NumMedia="1",
                        MediaUrl0="https://api.twilio.com/media/ME1")
    assert post_signed(live_client, form).status_code == 200
    with live_session_factory() as session:
        assert session.scalars(select(Message.media)).one() == ["https://api.twilio.com/media/ME1"]


def test_stop_opts_out_at_once_with_one_confirmation(live_client, live_session_factory):
    from tests.factories import make_patient

    with live_session_factory() as session:
        parent = make_patient(session, mobile=PATIENT)
        child = make_patient(session, mobile=PATIENT)
        session.commit()
    assert post_signed(live_client, inbound_form(from_=PATIENT, body="Stop")).status_code == 200
    with live_session_factory() as session:
        from api.patients.models import Patient

        assert all(session.get(Patient, p.id).opted_out for p in (parent, child))
        outbound = session.scalars(
            select(Message).where(Message.direction == Direction.OUTBOUND)).all()
    assert len(outbound) == 1
    assert outbound[0].category is MessageCategory.OPT_OUT_CONFIRMATION
    assert "START" in outbound[0].body

    assert post_signed(live_client, inbound_form(from_=PATIENT, body="START")).status_code == 200
    with live_session_factory() as session:
        assert not session.get(Patient, parent.id).opted_out


def test_yes_from_a_subscribed_patient_is_not_a_keyword(live_client, live_session_factory):
    assert post_signed(live_client, inbound_form(from_=PATIENT, body="yes")).status_code == 200
    assert _count(live_session_factory, status=MessageStatus.RECEIVED) == 1


def test_help_is_left_to_the_worker_which_answers_it_in_turn(live_client, live_session_factory):
    assert post_signed(live_client, inbound_form(from_=PATIENT, body="HELP")).status_code == 200
    assert _count(live_session_factory, status=MessageStatus.RECEIVED) == 1
    assert _count(live_session_factory, direction=Direction.OUTBOUND) == 0
