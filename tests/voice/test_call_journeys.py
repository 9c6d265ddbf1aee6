"""The phone line's journeys, end to end through the signed voice webhooks, the worker and the
real booking actions: the TwiML is parsed and checked for what is said and gathered."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.appointments.models import Appointment, AppointmentStatus
from api.handover.models import Handover, HandoverReason, Urgency
from api.messaging.models import Channel, Direction, Message, MessageStatus
from api.scheduling.models import Offer, OfferStatus
from api.system import working_hours
from api.voice.models import CallOutcome, VoiceCall
from tests.twilio_helpers import post_signed, signature_for
from tests.voice.calling import Phone, read_twiml
from tests.voice.conftest import MOBILE


def verified(phone: Phone) -> None:
    phone.ring()
    assert "How can I help" in phone.press("03071958").text


def handovers(factory) -> list[Handover]:
    with factory() as session:
        return session.scalars(select(Handover).order_by(Handover.id)).all()


def the_call(factory, phone: Phone) -> VoiceCall:
    with factory() as session:
        return session.scalars(select(VoiceCall).where(
            VoiceCall.call_sid == phone.call_sid)).one()


def client_with(monkeypatch, **env: str) -> TestClient:
    """The app with these settings (the live database stays the same)."""
    from api.config import get_settings
    from api.main import create_app

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return TestClient(create_app(), base_url="http://testserver")


def test_the_call_opens_with_who_we_are_and_999_then_asks_for_the_date_of_birth(
        phone, call_trust):
    turn = phone.ring()

    assert "appointments line" in turn.said[0] and "dial 999" in turn.said[0]
    assert "date of birth" in turn.said[1] and "8 digits" in turn.said[1]
    gather = turn.gather
    assert gather["input"] == "speech dtmf" and gather["language"] == "en-GB"
    assert gather["speechModel"] == "phone_call" and gather["numDigits"] == "8"
    assert "Royal Testshire Infirmary" in gather["hints"]
    assert gather["actionOnEmptyResult"] == "true"


def test_a_dob_keyed_as_digits_verifies(phone, call_trust, live_session_factory):
    phone.ring()
    turn = phone.press("03071958")

    assert "How can I help" in turn.text and "press 0" in turn.text
    assert turn.gather["numDigits"] if "numDigits" in turn.gather else True
    call = the_call(live_session_factory, phone)
    assert call.patient_id == call_trust.patient_id and call.stage.value == "assistant"


def test_a_spoken_date_of_birth_is_read_back_before_it_is_checked(phone, call_trust,
                                                                   live_session_factory):
    phone.ring()
    turn = phone.say("the fourth of July nineteen fifty eight")  # misheard: it was the 3rd
    assert "I heard the 4th of July 1958" in turn.text

    turn = phone.press("2")  # no: nothing was checked, nothing counted
    assert "date of birth again" in turn.text
    assert the_call(live_session_factory, phone).identity_failures == 0

    phone.say("3rd of July 1958.")
    turn = phone.say("yes that's right")
    assert "How can I help" in turn.text


def test_a_wrong_date_of_birth_is_counted_and_three_lock_the_call(phone, call_trust,
                                                                  live_session_factory):
    phone.ring()
    for _ in range(2):
        assert "doesn't match" in phone.press("01011970").text
    turn = phone.press("01011970")

    assert "couldn't confirm who you are" in turn.text and turn.hangup
    [case] = handovers(live_session_factory)
    assert case.reason is HandoverReason.IDENTITY_LOCKOUT
    assert the_call(live_session_factory, phone).outcome is CallOutcome.CALL_BACK


def test_a_chosen_date_is_read_back_and_booked_only_when_confirmed(
        phone, call_trust, worker, live_session_factory):
    verified(phone)
    turn = phone.say("can I have a new date please")
    assert [s for s in turn.said if s.startswith("Option 1:")]
    assert turn.said[-2:] == ["Say or press 1, 2 or 3.",
                              "Or say agent, or press 0, for a person."]
    assert turn.gather["numDigits"] == "1"

    turn = phone.press("2")
    assert turn.text.startswith("You chose ") and "Shall I book it?" in turn.text
    with live_session_factory() as session:
        assert session.get(Appointment, call_trust.appointment_id).slot_id is None

    turn = phone.say("yes please")
    assert "booked" in turn.text.lower()
    with live_session_factory() as session:
        appointment = session.get(Appointment, call_trust.appointment_id)
        assert appointment.status is AppointmentStatus.REBOOKED
        assert appointment.slot_id == call_trust.slot_ids[1]
        [written] = session.scalars(select(Message).where(Message.channel == Channel.SMS,
                                                          Message.to_address == MOBILE)).all()
        assert written.body.startswith("You're booked")  # the caller has it in writing too
    phone.hang_up()
    assert the_call(live_session_factory, phone).outcome is CallOutcome.CONTAINED


def test_saying_no_to_the_read_back_offers_the_dates_again(phone, call_trust, worker,
                                                           live_session_factory):
    verified(phone)
    phone.say("I need a new date")
    phone.say("the first one")
    turn = phone.press("2")

    assert [s for s in turn.said if s.startswith("Option 1:")]
    with live_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Offer).where(
            Offer.status == OfferStatus.ACCEPTED)) == 0


def test_a_red_flag_mid_call_gets_the_spoken_safety_net_and_an_urgent_case(
        phone, call_trust, worker, live_session_factory):
    verified(phone)
    turn = phone.say("actually I've got crushing chest pain right now")

    assert "hang up now and dial 999" in turn.text.lower()
    assert turn.gather["input"] == "dtmf"  # only "press star to hear it again" is left
    [case] = handovers(live_session_factory)
    assert case.urgency is Urgency.URGENT and case.reason is HandoverReason.RED_FLAG
    assert the_call(live_session_factory, phone).outcome is CallOutcome.SAFETY_NET
    assert "dial 999" in phone.press("*").text


def test_a_red_flag_before_identity_is_screened_too_even_when_recognition_is_unsure(
        phone, call_trust, live_session_factory):
    phone.ring()
    turn = phone.say("I don't want to be here anymore", confidence="0.2")

    assert "Samaritans" in turn.text and "option 2" in turn.text
    [case] = handovers(live_session_factory)
    assert case.urgency is Urgency.URGENT


def test_a_red_flag_goes_to_the_clinical_line_only(monkeypatch, call_trust,
                                                    live_session_factory):
    monkeypatch.setattr(working_hours, "is_working_time", lambda *_: True)
    with client_with(monkeypatch, VOICE_CLINICAL_NUMBER="+441614960999",
                     VOICE_BOOKINGS_NUMBER="+441614960001") as client:
        phone = Phone(client, caller=MOBILE)
        phone.ring()
        turn = phone.say("he's collapsed and he's not breathing")

    assert "dial 999" in turn.text and "clinical team" in turn.text
    assert turn.dial["number"] == "+441614960999"
    assert turn.dial["timeLimit"] == "1800"
    assert turn.dial["url"].startswith("/twilio/voice/whisper?case=")


def test_three_silences_go_to_a_person(phone, call_trust, live_session_factory):
    phone.ring()
    first = phone.silence()
    assert first.said[0] == "Sorry, I didn't hear anything."
    assert "date of birth" in first.text and first.gather["input"] == "speech dtmf"

    second = phone.silence()
    assert "use your keypad" in second.text and second.gather["input"] == "dtmf"

    third = phone.silence()
    assert third.hangup and "call you back" in third.text
    [case] = handovers(live_session_factory)
    assert case.reason is HandoverReason.NOT_UNDERSTOOD


def test_a_transfer_in_hours_whispers_the_case_to_the_bookings_team(monkeypatch, call_trust,
                                                                    live_session_factory):
    monkeypatch.setattr(working_hours, "is_working_time", lambda *_: True)
    with client_with(monkeypatch, VOICE_BOOKINGS_NUMBER="+441614960001") as client:
        phone = Phone(client, caller=MOBILE)
        verified(phone)
        turn = phone.say("can I speak to a person please")
        assert "putting you through to the bookings team" in turn.text
        assert turn.dial["number"] == "+441614960001"
        whisper = read_twiml(post_signed(client, phone._form(), path=turn.dial["url"]).text)
        assert "asked for a person" in whisper.text and not whisper.hangup

        after = phone._post(turn.dial["action"], DialCallStatus="no-answer")
    assert "nobody could take your call" in after.text and "call you back" in after.text
    assert the_call(live_session_factory, phone).outcome is CallOutcome.CALL_BACK


def test_a_call_back_out_of_hours_is_put_on_the_case(monkeypatch, phone, call_trust,
                                                     live_session_factory):
    monkeypatch.setattr(working_hours, "is_working_time", lambda *_: False)
    verified(phone)
    turn = phone.press("0")

    assert turn.hangup and "call you back on this number" in turn.text
    [case] = handovers(live_session_factory)
    assert case.reason is HandoverReason.ASKED_FOR_PERSON
    call = the_call(live_session_factory, phone)
    assert call.outcome is CallOutcome.CALL_BACK and call.handover_id == case.id


def test_repeat_says_the_last_thing_again(phone, call_trust):
    phone.ring()
    asked = phone.press("03071958")
    assert phone.press("*").said == asked.said
    assert phone.say("sorry can you say that again").said == asked.said


def test_a_withheld_caller_identifies_by_nhs_number_and_date_of_birth(live_client, call_trust,
                                                                      live_session_factory):
    from api.patients.models import Patient

    with live_session_factory() as session:
        nhs_number = session.get(Patient, call_trust.patient_id).nhs_number
    phone = Phone(live_client, caller="anonymous")
    turn = phone.ring()
    assert "NHS number" in turn.text and turn.gather["numDigits"] == "10"
    assert "date of birth" in phone.press(nhs_number).text
    assert "How can I help" in phone.press("03071958").text


def test_the_date_of_birth_lockout_counts_per_patient_across_calls(live_client, call_trust,
                                                                   live_session_factory):
    from api.patients.models import Patient

    with live_session_factory() as session:
        nhs_number = session.get(Patient, call_trust.patient_id).nhs_number
    first = Phone(live_client, caller="anonymous")
    first.ring()
    for _ in range(2):
        first.press(nhs_number)
        assert "don't match" in first.press("01011970").text
    first.hang_up()

    second = Phone(live_client, caller="anonymous")
    second.ring()
    second.press(nhs_number)
    assert "couldn't confirm" in second.press("01011970").text

    third = Phone(live_client, caller="anonymous")
    third.ring()
    third.press(nhs_number)
    turn = third.press("03071958")  # right, but the patient's phone checks are locked
    assert "couldn't confirm" in turn.text and "How can I help" not in turn.text
    assert [h.reason for h in handovers(live_session_factory)] == [
        HandoverReason.IDENTITY_LOCKOUT]


def test_a_repeated_gather_gets_the_same_answer_and_is_stored_once(phone, call_trust,
                                                                   live_session_factory):
    phone.ring()
    action = phone.last.gather["action"]
    first = phone.press("03071958")
    again = phone._post(action, Digits="03071958")

    assert again.raw == first.raw
    with live_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == Direction.INBOUND, Message.channel == Channel.VOICE)) == 1


def test_text_me_the_options_sends_them_by_sms_and_ends_the_call(phone, call_trust, worker,
                                                                  live_session_factory):
    verified(phone)
    phone.say("new date please")
    turn = phone.say("can you text me the options instead")

    assert "sent those dates to your mobile" in turn.text and turn.hangup
    with live_session_factory() as session:
        [sms] = session.scalars(select(Message).where(Message.channel == Channel.SMS,
                                                      Message.to_address == MOBILE)).all()
    assert "1. " in sms.body and "Reply with the number" in sms.body


def test_hanging_up_mid_flow_leaves_the_holds_to_expire(phone, call_trust, worker,
                                                       live_session_factory):
    verified(phone)
    phone.say("another date please")
    phone.hang_up()

    with live_session_factory() as session:
        held = session.scalar(select(func.count()).select_from(Offer).where(
            Offer.status == OfferStatus.HELD))
        assert held == 3
        unsaid = session.scalar(select(func.count()).select_from(Message).where(
            Message.channel == Channel.VOICE, Message.status == MessageStatus.QUEUED))
        assert unsaid == 0
    assert the_call(live_session_factory, phone).outcome is CallOutcome.CONTAINED


def test_a_caller_with_communication_needs_is_offered_a_person_at_once(phone, call_trust,
                                                                       live_session_factory):
    from api.patients.models import Patient

    with live_session_factory() as session:
        session.get(Patient, call_trust.patient_id).communication_needs = ["interpreter"]
        session.commit()
    phone.ring()
    turn = phone.press("03071958")
    assert "speak to a person" in turn.text
    assert phone.press("1").hangup
    [case] = handovers(live_session_factory)
    assert case.reason is HandoverReason.COMMUNICATION_NEEDS


def test_a_tampered_voice_webhook_is_refused_and_nothing_is_stored(live_client, call_trust,
                                                                   live_session_factory):
    phone = Phone(live_client, caller=MOBILE)
    form = phone._form(CallStatus="ringing")
    headers = {"X-Twilio-Signature": signature_for(form, path="/twilio/voice")}
    tampered = {**form, "From": "+447700900999"}

    assert live_client.post("/twilio/voice", data=tampered, headers=headers).status_code == 403
    assert live_client.post("/twilio/voice", data=form).status_code == 403
    with live_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(VoiceCall)) == 0


def test_malformed_and_unknown_calls_get_clear_errors(live_client, call_trust):
    response = post_signed(live_client, {"From": MOBILE}, path="/twilio/voice")
    assert response.status_code == 400 and "CallSid" in response.json()["detail"]
    phone = Phone(live_client, caller=MOBILE)
    response = post_signed(live_client, phone._form(Digits="1"),
                           path="/twilio/voice/gather?seq=1")
    assert response.status_code == 404


def test_a_callback_after_the_call_ended_hangs_up(phone, call_trust):
    phone.ring()
    action = phone.last.gather["action"]
    phone.hang_up()

    assert phone._post(action, Digits="03071958").hangup
    assert phone.ring().hangup


def test_the_retention_purge_empties_a_call_record(phone, call_trust, live_session_factory,
                                                  live_settings):
    from datetime import timedelta

    from api.db import utcnow
    from api.privacy import service as privacy_service

    verified(phone)
    phone.hang_up()
    with live_session_factory() as session:
        later = utcnow() + timedelta(days=live_settings.retention_days + 1)
        result = privacy_service.purge(session=session, settings=live_settings, now=later)
        session.commit()
    assert result["conversations"] >= 1
    call = the_call(live_session_factory, phone)
    assert call.caller != MOBILE and call.outcome is CallOutcome.CONTAINED
    with live_session_factory() as session:
        bodies = session.scalars(select(Message.body).where(Message.channel == Channel.VOICE))
        assert set(bodies) == {""}


def test_an_urgent_case_from_an_earlier_call_never_goes_to_the_bookings_clerks(
        monkeypatch, call_trust, live_session_factory):
    monkeypatch.setattr(working_hours, "is_working_time", lambda *_: True)
    with client_with(monkeypatch, VOICE_BOOKINGS_NUMBER="+441614960001") as client:
        first = Phone(client, caller=MOBILE)
        first.ring()
        first.say("my chest is so tight I can't breathe")
        first.hang_up()

        again = Phone(client, caller=MOBILE)
        verified(again)
        turn = again.press("0")  # asks for a person while the red-flag case is open
    assert turn.dial is None and turn.hangup
    assert "clinician will call you back" in turn.text
    [case] = handovers(live_session_factory)
    assert case.urgency is Urgency.URGENT


def test_a_subject_access_export_holds_the_patients_calls_and_only_theirs(
        live_client, call_trust, live_session_factory):
    from api.patients.models import Patient
    from api.privacy import service as privacy_service

    stranger = Phone(live_client, caller=MOBILE)  # the same number, a wrong date of birth
    stranger.ring()
    stranger.press("01011970")
    stranger.hang_up()
    own = Phone(live_client, caller=MOBILE)
    verified(own)
    own.hang_up()

    with live_session_factory() as session:
        export = privacy_service.export_patient(
            session=session, patient=session.get(Patient, call_trust.patient_id),
            actor="test", via="test")
    [call] = export["phone_calls"]
    assert call["call_sid"] == own.call_sid
    said = [m["body"] for m in call["transcript"]]
    assert "03071958" in said and "01011970" not in said


def test_every_prompt_offers_a_way_out_once(phone, call_trust):
    way_out = "Or say agent, or press 0, for a person."
    asked = phone.ring()
    again = phone.silence()
    keypad = phone.silence()

    for turn in (asked, again, keypad):
        assert turn.said.count(way_out) == 1, turn.said


def test_a_slow_answer_gets_a_holding_phrase_then_the_answer(monkeypatch, call_trust,
                                                             live_session_factory):
    from tests.conversations.helpers import echo_worker
    from tests.fakes.fake_rasa import EchoAssistant
    from tests.voice.calling import WorkerThread

    with client_with(monkeypatch, VOICE_REPLY_WAIT_SECONDS="0.3") as client:
        settings = client.app.state.voice_line.settings
        phone = Phone(client, caller=MOBILE)
        verified(phone)
        with WorkerThread(echo_worker(settings, live_session_factory, EchoAssistant(delay=1.0))):
            turn = phone.say("why was it moved")
    holding = [t for t in phone.turns if t.redirect]
    assert holding and holding[0].said == ["One moment, please."]
    assert holding[0].redirect.startswith("/twilio/voice/wait?seq=")
    assert turn.said[0] == "Echo: why was it moved."


def test_an_answer_that_never_comes_goes_to_a_person(monkeypatch, call_trust,
                                                     live_session_factory):
    from tests.conversations.helpers import echo_worker
    from tests.fakes.fake_rasa import EchoAssistant
    from tests.voice.calling import WorkerThread

    monkeypatch.setattr(working_hours, "is_working_time", lambda *_: False)
    with client_with(monkeypatch, VOICE_REPLY_WAIT_SECONDS="0.3",
                     VOICE_MAX_WAIT_SECONDS="0.8") as client:
        settings = client.app.state.voice_line.settings
        phone = Phone(client, caller=MOBILE)
        verified(phone)
        with WorkerThread(echo_worker(settings, live_session_factory, EchoAssistant(delay=2.5))):
            turn = phone.say("why was it moved")
    assert "nobody could take your call" in turn.text and turn.hangup
    [case] = handovers(live_session_factory)
    assert case.reason is HandoverReason.ASSISTANT_UNAVAILABLE


def test_recording_is_announced_and_applies_to_put_through_calls(monkeypatch, call_trust):
    monkeypatch.setattr(working_hours, "is_working_time", lambda *_: True)
    with client_with(monkeypatch, VOICE_RECORD_CALLS="true",
                     VOICE_BOOKINGS_NUMBER="+441614960001") as client:
        phone = Phone(client, caller=MOBILE)
        assert "Calls to this line are recorded." in phone.ring().said
        phone.press("03071958")
        turn = phone.press("0")
    assert turn.dial["record"] == "record-from-answer-dual"


def test_a_number_calling_too_often_is_asked_to_call_the_team(monkeypatch, call_trust):
    with client_with(monkeypatch, VOICE_CALLS_PER_HOUR="2") as client:
        for _ in range(2):
            assert Phone(client, caller=MOBILE).ring().gather is not None
        turn = Phone(client, caller=MOBILE).ring()
    assert turn.hangup and "several calls from this number" in turn.text
    assert "dial 999" in turn.text


def test_a_corrected_date_of_birth_instead_of_yes_or_no_is_read_back_in_turn(phone, call_trust):
    phone.ring()
    phone.say("the fourth of July 1958")
    turn = phone.say("no it's the third of July 1958")
    assert "I heard the 3rd of July 1958" in turn.text
    assert "How can I help" in phone.press("1").text
