"""The sandbox phone's call mode: typed words and keys through the real, signed voice webhooks."""

from __future__ import annotations

import pytest
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from api.voice import sandbox
from tests.factories import make_patient

MOBILE = "+447700900001"


@pytest.fixture
def client(live_settings, monkeypatch):
    """The app with no bookings number, so asking for a person always means a call-back."""
    from fastapi.testclient import TestClient

    from api.config import get_settings
    from api.main import create_app

    monkeypatch.setenv("VOICE_BOOKINGS_NUMBER", "")
    monkeypatch.setenv("VOICE_CLINICAL_NUMBER", "")
    get_settings.cache_clear()
    with TestClient(create_app(), base_url="http://testserver") as test_client:
        yield test_client


def _patient(live_session_factory) -> None:
    with live_session_factory() as session:
        make_patient(session, mobile=MOBILE)
        session.commit()


def _call(client, **payload):
    return client.post("/sandbox/call", json={"mobile": MOBILE, **payload})


def test_a_call_verified_by_keypad_then_a_call_back(client, live_session_factory):
    _patient(live_session_factory)
    rung = _call(client, action="ring")
    assert rung.status_code == 200, rung.text
    answer = rung.json()
    assert "999" in " ".join(answer["said"])
    assert "date of birth" in " ".join(answer["said"])
    assert answer["listening"]["digits"] == 8
    assert answer["listening"]["next"] == "/twilio/voice/gather?seq=1"
    assert not answer["ended"] and not answer["put_through"]
    call_sid = answer["call_sid"]

    keyed = _call(client, action="press", digits="03071958", call_sid=call_sid,
                  next=answer["listening"]["next"]).json()
    assert "How can I help" in " ".join(keyed["said"])
    assert keyed["listening"]["next"] == "/twilio/voice/gather?seq=2"

    person = _call(client, action="press", digits="0", call_sid=call_sid,
                   next=keyed["listening"]["next"]).json()
    assert person["ended"] is True and person["put_through"] is False
    assert person["listening"] is None
    assert "call you back" in " ".join(person["said"])

    from api.voice.models import VoiceCall
    with live_session_factory() as session:
        call = session.query(VoiceCall).one()
        assert call.ended_at is not None  # the line hung up: the status callback followed
        assert call.duration_seconds == 60


def test_silence_and_speech_and_hanging_up(client, live_session_factory):
    _patient(live_session_factory)
    answer = _call(client, action="ring").json()
    call_sid = answer["call_sid"]
    quiet = _call(client, action="silence", call_sid=call_sid,
                  next=answer["listening"]["next"]).json()
    assert quiet["said"] and quiet["listening"] is not None
    spoken = _call(client, action="say", text="third of July 1958", call_sid=call_sid,
                   next=quiet["listening"]["next"])
    assert spoken.status_code == 200, spoken.text
    assert spoken.json()["said"]
    hung_up = _call(client, action="hang_up", call_sid=call_sid).json()
    assert hung_up == {"call_sid": call_sid, "said": [], "listening": None,
                       "put_through": False, "ended": True}


def test_a_withheld_number_is_asked_who_they_are(client):
    answer = client.post("/sandbox/call", json={"mobile": "withheld", "action": "ring"}).json()
    assert answer["listening"] is not None and answer["said"]


@pytest.mark.parametrize("next_path", [
    "/twilio/voice/status", "/twilio/voice/wait?seq=1", "/sandbox/call", "https://example.com",
    "/twilio/voice/gather/../status?seq=1", "/twilio/voice/gather?seq=1&x=2",
])
def test_answers_go_only_to_a_gather(client, next_path):
    response = _call(client, action="press", digits="1", call_sid="CA" + "0" * 32,
                     next=next_path)
    assert response.status_code == 422  # refused by the declared pattern


def test_the_webhooks_refusal_is_passed_on(client):
    response = _call(client, action="press", digits="1", call_sid="CA" + "0" * 32,
                     next="/twilio/voice/gather?seq=1")
    assert response.status_code == 404  # no such call


@pytest.mark.parametrize("payload", [
    {"action": "say", "text": "x" * 501, "call_sid": "CA" + "0" * 32,
     "next": "/twilio/voice/gather?seq=1"},
    {"action": "say", "text": "a\x00b", "call_sid": "CA" + "0" * 32,
     "next": "/twilio/voice/gather?seq=1"},
    {"action": "press", "digits": "12a", "call_sid": "CA" + "0" * 32,
     "next": "/twilio/voice/gather?seq=1"},
    {"action": "press", "digits": "1" * 13, "call_sid": "CA" + "0" * 32,
     "next": "/twilio/voice/gather?seq=1"},
    {"action": "press", "digits": "1", "next": "/twilio/voice/gather?seq=1"},
    {"action": "dance"},
    {"action": "ring", "mobile": "07700 900001"},
])
def test_bad_requests_are_refused(client, payload):
    assert client.post("/sandbox/call", json={"mobile": MOBILE, **payload}).status_code == 422


def test_the_call_mode_is_not_mounted_in_twilio_mode(monkeypatch, live_settings):
    from fastapi.testclient import TestClient

    from api.config import get_settings
    from api.main import create_app

    monkeypatch.setenv("MESSAGING_MODE", "twilio")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "ACtest")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as test_client:
            response = test_client.post("/sandbox/call", json={"mobile": MOBILE,
                                                               "action": "ring"})
            assert response.status_code == 404
    finally:
        monkeypatch.setenv("MESSAGING_MODE", "sandbox")
        get_settings.cache_clear()


# -- read_twiml on hand-made TwiML ----------------------------------------------------------

def test_read_a_gather_for_speech_and_keys():
    response = VoiceResponse()
    gather = Gather(input="speech dtmf", action="/twilio/voice/gather?seq=4", num_digits=8)
    gather.say("Hello.")
    gather.say("Your date of birth, please.")
    response.append(gather)
    response.redirect("/twilio/voice/gather?seq=4", method="POST")
    assert sandbox.read_twiml(str(response)) == {
        "said": ["Hello.", "Your date of birth, please."],
        "listening": {"keypad_only": False, "digits": 8, "next": "/twilio/voice/gather?seq=4"},
        "put_through": False, "ended": False, "redirect": None}


def test_read_a_keypad_only_gather():
    response = VoiceResponse()
    gather = Gather(input="dtmf", action="/twilio/voice/gather?seq=2")
    gather.say("Press 1.")
    response.append(gather)
    listening = sandbox.read_twiml(str(response))["listening"]
    assert listening == {"keypad_only": True, "digits": None,
                         "next": "/twilio/voice/gather?seq=2"}


def test_read_a_holding_phrase():
    response = VoiceResponse()
    response.say("Just a moment.")
    response.pause(length=1)
    response.redirect("/twilio/voice/wait?seq=3&waited=3.0", method="POST")
    read = sandbox.read_twiml(str(response))
    assert read["said"] == ["Just a moment."] and read["listening"] is None
    assert read["redirect"] == "/twilio/voice/wait?seq=3&waited=3.0"
    assert sandbox.is_redirect_path(read["redirect"])


def test_read_a_put_through_and_a_hang_up():
    response = VoiceResponse()
    response.say("Putting you through.")
    dial = Dial(action="/twilio/voice/dialled?seq=5")
    dial.number("+441614960001", url="/twilio/voice/whisper?case=1")
    response.append(dial)
    read = sandbox.read_twiml(str(response))
    assert read["put_through"] and not read["ended"] and read["listening"] is None
    assert read["redirect"] is None

    goodbye = VoiceResponse()
    goodbye.say("Goodbye.")
    goodbye.hangup()
    assert sandbox.read_twiml(str(goodbye)) == {
        "said": ["Goodbye."], "listening": None, "put_through": False, "ended": True,
        "redirect": None}


def test_read_an_empty_answer():
    assert sandbox.read_twiml('<?xml version="1.0" encoding="UTF-8"?><Response/>') == {
        "said": [], "listening": None, "put_through": False, "ended": False, "redirect": None}


def test_paths_the_sandbox_accepts():
    assert sandbox.is_gather_path("/twilio/voice/gather?seq=12")
    assert not sandbox.is_gather_path("/twilio/voice/gather")
    assert not sandbox.is_redirect_path("/twilio/voice/status")
    assert not sandbox.is_redirect_path("https://evil.example/twilio/voice/wait?seq=1")


def test_the_text_thread_leaves_out_the_calls_words(client, live_session_factory):
    _patient(live_session_factory)
    answer = _call(client, action="ring").json()
    _call(client, action="press", digits="03071958", call_sid=answer["call_sid"],
          next=answer["listening"]["next"])
    thread = client.get("/sandbox/thread", params={"address": MOBILE}).json()
    assert thread == []  # the call's transcript is not a text conversation
